package dev.bolero.gateway;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import org.eclipse.jetty.io.AbstractConnection;
import org.eclipse.jetty.io.Connection;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.util.FutureCallback;

/**
 * The client's connection after a switch of protocols: bytes from the client are written to the machine's socket as
 * they arrive, and a virtual thread copies the machine's bytes to the client. Either side's end of stream is passed
 * on as a half close; when the client's connection closes, the machine's socket closes and the machine is released.
 */
final class Splice extends AbstractConnection implements Connection.UpgradeTo {
    private final Socket upstream;
    private final byte[] fromMachine;
    private final Lease lease;
    private final ByteBuffer buffer = ByteBuffer.allocate(16 * 1024);
    private byte[] fromClient = new byte[0];

    Splice(EndPoint endPoint, Executor executor, Socket upstream, byte[] fromMachine, Lease lease) {
        super(endPoint, executor);
        this.upstream = upstream;
        this.fromMachine = fromMachine;
        this.lease = lease;
    }

    @Override
    public void onUpgradeTo(ByteBuffer buffered) {
        if (buffered != null && buffered.hasRemaining()) {
            fromClient = new byte[buffered.remaining()];
            buffered.get(fromClient);
        }
    }

    @Override
    public void onOpen() {
        super.onOpen();
        try {
            if (fromClient.length > 0) {
                upstream.getOutputStream().write(fromClient);
            }
        } catch (IOException e) {
            getEndPoint().close(e);
            return;
        }
        Thread.ofVirtual().name("ws-machine-to-client").start(this::copyMachineToClient);
        fillInterested();
    }

    @Override
    public void onFillable() {
        try {
            OutputStream out = upstream.getOutputStream();
            while (true) {
                buffer.clear();
                buffer.flip();
                int n = getEndPoint().fill(buffer);
                if (n > 0) {
                    out.write(buffer.array(), buffer.arrayOffset() + buffer.position(), n);
                } else if (n == 0) {
                    fillInterested();
                    return;
                } else {
                    upstream.shutdownOutput();
                    return;
                }
            }
        } catch (IOException e) {
            getEndPoint().close(e);
        }
    }

    private void copyMachineToClient() {
        EndPoint endPoint = getEndPoint();
        try {
            if (fromMachine.length > 0) {
                write(endPoint, ByteBuffer.wrap(fromMachine));
            }
            InputStream in = upstream.getInputStream();
            byte[] chunk = new byte[16 * 1024];
            int n;
            while ((n = in.read(chunk)) >= 0) {
                write(endPoint, ByteBuffer.wrap(chunk, 0, n));
            }
            endPoint.shutdownOutput();
        } catch (IOException | ExecutionException e) {
            endPoint.close(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            endPoint.close(e);
        }
    }

    private static void write(EndPoint endPoint, ByteBuffer bytes) throws InterruptedException, ExecutionException {
        var done = new FutureCallback();
        endPoint.write(done, bytes);
        done.get();
    }

    @Override
    public void onClose(Throwable cause) {
        WebSocketTunnel.closeQuietly(upstream);
        lease.release(false);
        super.onClose(cause);
    }
}
