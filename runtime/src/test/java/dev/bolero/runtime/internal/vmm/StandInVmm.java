package dev.bolero.runtime.internal.vmm;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.unixdomain.server.UnixDomainServerConnector;
import org.eclipse.jetty.util.Callback;

/**
 * An in-process HTTP server on a Unix socket standing in for a VMM's API, for tests of the logic around the
 * drivers' HTTP calls: it records every request and answers 204, or a canned error for chosen requests.
 */
public final class StandInVmm implements AutoCloseable {

    /** One received request: {@code PUT /boot-source} and its body (empty string when none). */
    public record Received(String request, String body) {}

    /** A canned answer: status and body. */
    public record Answer(int status, String body) {}

    private final Server server = new Server();
    private final List<Received> received = new CopyOnWriteArrayList<>();
    private final Map<String, Answer> answers;

    /** @param answers canned answers by request ({@code PUT /boot-source}); every other request gets 204 */
    public StandInVmm(Path socket, Map<String, Answer> answers) throws Exception {
        this.answers = Map.copyOf(answers);
        UnixDomainServerConnector connector = new UnixDomainServerConnector(server);
        connector.setUnixDomainPath(socket);
        server.addConnector(connector);
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                String what = request.getMethod() + " " + request.getHttpURI().getPath();
                received.add(new Received(what, Content.Source.asString(request, StandardCharsets.UTF_8)));
                Answer answer = StandInVmm.this.answers.get(what);
                if (answer == null) {
                    response.setStatus(204);
                    callback.succeeded();
                } else {
                    response.setStatus(answer.status());
                    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
                    response.write(true, ByteBuffer.wrap(answer.body().getBytes(StandardCharsets.UTF_8)), callback);
                }
                return true;
            }
        });
        server.start();
    }

    public List<Received> received() {
        return List.copyOf(received);
    }

    @Override
    public void close() throws Exception {
        server.stop();
    }
}
