package dev.bolero.runtime.internal.vmm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The host side of the hybrid-vsock handshake, against a stand-in for the VMM's end of the Unix socket. */
class HybridVsockTest {

    @TempDir Path dir;

    /** Accepts one connection, reads the CONNECT line, answers {@code reply} and then the guest's first bytes. */
    private CompletableFuture<String> vmm(ServerSocketChannel server, String reply) {
        return CompletableFuture.supplyAsync(() -> {
            try (SocketChannel peer = server.accept()) {
                ByteBuffer request = ByteBuffer.allocate(64);
                while (request.position() == 0 || request.get(request.position() - 1) != '\n') peer.read(request);
                peer.write(ByteBuffer.wrap(reply.getBytes(StandardCharsets.US_ASCII)));
                return new String(request.array(), 0, request.position(), StandardCharsets.US_ASCII);
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    @Test
    void theHandshakeConsumesOnlyTheOkLine() throws Exception {
        Path socket = dir.resolve("v.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            CompletableFuture<String> seen = vmm(server, "OK 1073741824\n\001\000\000\000\015");
            try (SocketChannel channel = HybridVsock.connect(socket, 1024)) {
                assertThat(seen.get()).isEqualTo("CONNECT 1024\n");
                ByteBuffer frameStart = ByteBuffer.allocate(5);
                while (frameStart.hasRemaining() && channel.read(frameStart) >= 0) {}
                assertThat(frameStart.array()).containsExactly(1, 0, 0, 0, 13);
            }
        }
    }

    @Test
    void aClosedConnectionMeansNobodyListensInTheGuest() throws Exception {
        Path socket = dir.resolve("v.sock");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            server.bind(UnixDomainSocketAddress.of(socket));
            vmm(server, "");
            assertThatThrownBy(() -> HybridVsock.connect(socket, 1024))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("closed by the VMM");
        }
    }
}
