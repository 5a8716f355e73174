package dev.bolero.agent.http;

import dev.bolero.agent.machine.ExecSession;
import dev.bolero.agent.machine.MachineService;
import dev.bolero.api.ApiException;
import dev.bolero.api.ApiJson;
import dev.bolero.api.ErrorCode;
import dev.bolero.api.ExecStream;
import dev.bolero.runtime.guest.GuestEvent;
import io.javalin.websocket.WsBinaryMessageContext;
import io.javalin.websocket.WsCloseStatus;
import io.javalin.websocket.WsConfig;
import io.javalin.websocket.WsContext;
import io.javalin.websocket.WsMessageContext;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.websocket.api.Callback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /api/v1/machines/{id}/exec} upgraded to a WebSocket: an interactive exec ({@link ExecStream} describes
 * the messages). The command is killed when the client goes away before it ends. Errors leave as an
 * {@code {"error": …}} text message, then a close with 1008 (policy violation: the request or the machine's state)
 * or 1011 (internal error).
 *
 * <p>{@code GET /api/v1/machines/{id}/attach} is the same socket attached to the running workload itself
 * ({@link MachineService#attach}): no first message (the client's first is usually a resize), then the same control,
 * input, output and exit messages; the exit is the workload's. A client going away detaches; the workload runs on.
 */
final class ExecSocket {
    private static final Logger log = LoggerFactory.getLogger(ExecSocket.class);
    private static final String EXEC = "bolero.exec";
    private static final long PING_SECONDS = 15;
    /** The most output of a workload that may wait for an attached client before it is cut off. */
    static final long ATTACH_UNSENT_MAX = 4L << 20;

    /** What the socket is connected to. */
    enum Target {
        /** A command started by the client's first message. */
        EXEC("exec in"),
        /** The machine's workload. */
        ATTACH("attach to");

        private final String verb;

        Target(String verb) {
            this.verb = verb;
        }
    }

    private final MachineService machines;
    private final Target target;

    ExecSocket(MachineService machines, Target target) {
        this.machines = machines;
        this.target = target;
    }

    void configure(WsConfig ws) {
        // Pings keep an idle terminal open past the server's idle timeout; the client answers them by itself.
        ws.onConnect(ctx -> {
            ctx.enableAutomaticPings(PING_SECONDS, TimeUnit.SECONDS);
            if (target == Target.ATTACH) {
                try {
                    ctx.attribute(EXEC, machines.attach(ctx.pathParam("id"), new Forward(ctx, target)));
                } catch (ApiException e) {
                    fail(ctx, e);
                }
            }
        });
        ws.onMessage(this::text);
        ws.onBinaryMessage(this::binary);
        ws.onClose(this::abandon);
        ws.onError(this::abandon);
    }

    private void text(WsMessageContext ctx) {
        String action = action(ctx, target);
        ExecSession exec = ctx.attribute(EXEC);
        try {
            if (exec == null && target == Target.ATTACH) return; // the attach failed: the socket is closing
            if (exec == null) {
                ExecStream.Start start = ExecStream.Start.parse(ctx.message(), action);
                ctx.attribute(EXEC, machines.openExec(ctx.pathParam("id"), start, new Forward(ctx, target)));
                return;
            }
            ExecStream.Control control = ApiJson.parse(ctx.message(), ExecStream.Control.class, action);
            if (control.resize() != null) exec.resize(control.resize().rows(), control.resize().cols());
            else if (control.signal() != null) exec.signal(control.signalNumber());
            else exec.closeInput();
        } catch (ApiException e) {
            fail(ctx, e);
        }
    }

    private void binary(WsBinaryMessageContext ctx) {
        ExecSession exec = ctx.attribute(EXEC);
        try {
            if (exec == null) {
                if (target == Target.ATTACH) return; // the attach failed: the socket is closing
                throw ApiException.invalid(action(ctx, target)
                        + ": the first message must be the exec request, as JSON text");
            }
            ByteBuffer data = ctx.data();
            byte[] bytes = new byte[data.remaining()];
            data.get(bytes);
            exec.input(bytes);
        } catch (ApiException e) {
            fail(ctx, e);
        }
    }

    /** The client went away (or the socket failed): kill the command unless it has ended, or detach. */
    private void abandon(WsContext ctx) {
        ExecSession exec = ctx.attribute(EXEC);
        if (exec == null) return;
        try {
            exec.close();
        } catch (ApiException e) {
            log.warn("{}: could not kill the command after the client went away: {}", action(ctx, target),
                    e.getMessage());
        }
    }

    private static String action(WsContext ctx, Target target) {
        return target.verb + " machine " + ctx.pathParam("id");
    }

    /** Sends the error and closes; the command, if any, is killed by the close. */
    private static void fail(WsContext ctx, ApiException e) {
        ctx.send(ApiJson.mapper().writeValueAsString(e.toError()));
        ctx.closeSession(e.code() == ErrorCode.INTERNAL ? WsCloseStatus.SERVER_ERROR : WsCloseStatus.POLICY_VIOLATION,
                e.code().wireName());
    }

    /** The command's output and end, to the client. Runs on the machine's reader thread: it must not throw. */
    private static final class Forward implements ExecSession.Listener {
        private final WsContext ctx;
        private final Target target;
        /** Output bytes queued toward the client and not yet written. */
        private final AtomicLong unsent = new AtomicLong();

        Forward(WsContext ctx, Target target) {
            this.ctx = ctx;
            this.target = target;
        }

        /**
         * Queues the chunk without waiting; {@code sent} runs when Jetty has written it, which grants the guest more
         * output. A client that does not read thus holds at most one window of a command's output here (no callback:
         * no credit). A workload's output is not held back for a client (it goes to the log whatever the client
         * does): a client attached to it that lets more than {@value #ATTACH_UNSENT_MAX} bytes wait is cut off.
         */
        @Override
        public void output(GuestEvent.Stream stream, byte[] data, Runnable sent) {
            if (unsent.addAndGet(data.length) > ATTACH_UNSENT_MAX && target == Target.ATTACH) {
                guarded(() -> fail(ctx, new ApiException(ErrorCode.TOO_LARGE, action(ctx, target) + ": the client "
                        + "read too slowly: more than " + ATTACH_UNSENT_MAX + " bytes of output waited for it")));
                return;
            }
            byte type = stream == GuestEvent.Stream.STDOUT ? ExecStream.STDOUT : ExecStream.STDERR;
            guarded(() -> ctx.session.sendBinary(ByteBuffer.wrap(ExecStream.output(type, data)), Callback.from(() -> {
                unsent.addAndGet(-data.length);
                sent.run();
            }, failure -> {
                unsent.addAndGet(-data.length);
                log.debug("{}: output not sent: {}", action(ctx, target), failure.toString());
            })));
        }

        @Override
        public void exited(int exitCode) {
            guarded(() -> {
                ctx.send(ApiJson.mapper().writeValueAsString(new ExecStream.Exit(exitCode)));
                ctx.closeSession(WsCloseStatus.NORMAL_CLOSURE, "exited");
            });
        }

        @Override
        public void failed(ApiException error) {
            guarded(() -> fail(ctx, error));
        }

        private void guarded(Runnable send) {
            try {
                send.run();
            } catch (RuntimeException e) {
                log.debug("{}: the client is gone: {}", action(ctx, target), e.toString());
            }
        }
    }
}
