package dev.bolero.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.bolero.network.testing.HostCommands;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeKeyTest {
    @TempDir Path dir;

    @Test
    void aNewKeyIsWrittenOwnerOnlyAndReadBackTheSame() throws Exception {
        var file = dir.resolve("keys/wireguard.key");
        var made = NodeKey.loadOrCreate(file);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent()))).isEqualTo("rwx------");
        assertThat(made.publicKey()).hasSize(44);
        assertThat(NodeKey.loadOrCreate(file)).isEqualTo(made);
        assertThat(Files.readString(file)).doesNotContain(made.publicKey());
    }

    @Test
    void theKeysAgreeWithWireGuardsOwnTool() throws Exception {
        assumeTrue(HostCommands.run("sh", "-c", "command -v wg").exit() == 0, "wg (wireguard-tools) is not installed");
        var ours = NodeKey.loadOrCreate(dir.resolve("ours.key"));
        assertThat(wgPubkey(Files.readString(ours.file()))).isEqualTo(ours.publicKey());

        var theirs = dir.resolve("theirs.key");
        Files.writeString(theirs, HostCommands.sh("wg", "genkey"));
        Files.setPosixFilePermissions(theirs, PosixFilePermissions.fromString("rw-r--r--"));
        var loaded = NodeKey.loadOrCreate(theirs);
        assertThat(loaded.publicKey()).isEqualTo(wgPubkey(Files.readString(theirs)));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(theirs))).isEqualTo("rw-------");
    }

    @Test
    void aFileWithoutAKeyIsRefused() throws Exception {
        var file = dir.resolve("bad.key");
        Files.writeString(file, "not a key\n");
        assertThatThrownBy(() -> NodeKey.loadOrCreate(file)).isInstanceOf(IOException.class).hasMessageContaining("read node key");
    }

    private static String wgPubkey(String privateKey) throws Exception {
        var p = new ProcessBuilder("wg", "pubkey").start();
        try (var in = p.getOutputStream()) {
            in.write(privateKey.getBytes());
        }
        var out = new String(p.getInputStream().readAllBytes()).strip();
        assertThat(p.waitFor()).isZero();
        return out;
    }
}
