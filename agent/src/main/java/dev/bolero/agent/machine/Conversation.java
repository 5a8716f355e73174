package dev.bolero.agent.machine;

import dev.bolero.agent.logs.LogStore;
import dev.bolero.agent.logs.LogStream;
import dev.bolero.agent.logs.WorkloadLog;
import dev.bolero.api.ApiException;
import dev.bolero.api.ErrorCode;
import dev.bolero.api.ExecRequest;
import dev.bolero.api.ExecResult;
import dev.bolero.api.ExecStream;
import dev.bolero.oci.OciException;
import dev.bolero.runtime.VmProcess;
import dev.bolero.runtime.guest.GuestConfig;
import dev.bolero.runtime.guest.GuestEvent;
import dev.bolero.runtime.guest.GuestExec;
import dev.bolero.runtime.guest.GuestProtocolException;
import dev.bolero.runtime.guest.GuestIdentity;
import dev.bolero.runtime.guest.GuestSession;
import dev.bolero.runtime.guest.TerminalSize;
import java.io.IOException;
import java.nio.channels.ByteChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host's side of one VM's guest protocol, on a virtual thread of its own: sends the config on HELLO, persists the
 * workload's output (confirming to the guest what is persisted), passes exec events to their callers, and reports the
 * workload's start and end to its {@link Listener}. Reconnects when the control channel drops while the VMM lives; a
 * guest that breaks the protocol (or stops reading the channel) has its VMM stopped and its run failed with
 * {@link RunEnd.Reason#GUEST_CHANNEL_BROKEN}: the agent does not reconnect to a guest that lies to it.
 * Also runs exec calls over the current session, on the callers' threads.
 */
final class Conversation {
    private static final Logger log = LoggerFactory.getLogger(Conversation.class);
    /**
     * The pause before opening the control channel again after it could not be opened or dropped while the VMM lives
     * (a booting VMM may not accept connections yet).
     */
    static final Duration RECONNECT_PAUSE = Duration.ofMillis(100);
    private static final Duration EXEC_KILL_GRACE = Duration.ofSeconds(5);
    private static final int SIGKILL = 9;

    /** What the conversation reports; called on its thread. */
    interface Listener {
        /** The guest started the workload. */
        void started();

        /**
         * The conversation is over: with the workload's end ({@code exited} with its status, or {@code start failed}),
         * or empty when the VMM is gone without one. Not called after {@link #detach()}.
         */
        void ended(Optional<RunEnd> end);
    }

    /** Builds the guest's config again, for a re-adopted VM whose guest asks for it. */
    interface ConfigSource {
        GuestConfig get() throws OciException;
    }

    private final String id;
    private final VmProcess process;
    private final LogStore logs;
    private final ConfigSource rebuild;
    private final Listener listener;
    private final ExecCalls execs = new ExecCalls();
    private volatile GuestSession session;
    /** The config to send on HELLO; null for an adopted VM (rebuilt if its guest asks again). */
    private volatile GuestConfig pendingConfig;
    private volatile boolean detached;
    /** The signal for the workload awaiting the guest's connection; 0 for none. */
    private final java.util.concurrent.atomic.AtomicInteger pendingSignal =
            new java.util.concurrent.atomic.AtomicInteger();
    /** Why exec calls are refused while the VM is being suspended; null while they are accepted. */
    private volatile String refusal;
    /** The FREEZE requests awaiting the guest's answer, by request id: its errno. */
    private final java.util.Map<Integer, CompletableFuture<Integer>> freezes =
            new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.concurrent.atomic.AtomicInteger freezeIds = new java.util.concurrent.atomic.AtomicInteger();
    /** The guest was resumed from a snapshot: its clock is set on the first connection. */
    private boolean setClock;
    /** The identity a fork's clone is given on its first connection; empty once given, or for any other guest. */
    private Optional<GuestIdentity> identity = Optional.empty();
    private Thread thread;
    /** The clients attached to the workload; those of a fresh VM whose stdin is open see its earlier output too. */
    private final Attachments attachments;

    private Conversation(String id, VmProcess process, LogStore logs, GuestConfig config, ConfigSource rebuild,
            Listener listener) {
        this.id = id;
        this.process = process;
        this.logs = logs;
        this.pendingConfig = config;
        this.rebuild = rebuild;
        this.listener = listener;
        this.attachments = new Attachments(id, () -> session,
                config != null && config.stdin() != GuestConfig.Stdin.CLOSED);
    }

    /**
     * Starts talking to {@code process}'s guest.
     *
     * @param config what to send on HELLO; null for a re-adopted VM, whose config {@code rebuild} makes if needed
     */
    static Conversation start(String id, VmProcess process, LogStore logs, GuestConfig config, ConfigSource rebuild,
            Listener listener) {
        return start(id, process, logs, config, rebuild, listener, false, Optional.empty());
    }

    /**
     * Starts talking to a guest; with {@code resumed}, one resumed from a snapshot: the first connection sets its
     * clock to the host's (it stood still while the VM was suspended) and asks for the output it kept. With an
     * {@code identity}, the guest resumed another VM's snapshot (a fork's clone): it is given its own right after.
     */
    static Conversation start(String id, VmProcess process, LogStore logs, GuestConfig config, ConfigSource rebuild,
            Listener listener, boolean resumed, Optional<GuestIdentity> identity) {
        Conversation c = new Conversation(id, process, logs, config, rebuild, listener);
        c.setClock = resumed;
        c.identity = identity;
        c.thread = Thread.ofVirtual().name("machine-" + id).start(c::run);
        return c;
    }

    /**
     * Sends the workload {@code signal} now when the guest is connected, else as soon as it connects (a re-adopted or
     * resumed guest whose channel is not open yet, or one whose channel dropped and is being reopened); a later
     * signal sent before then replaces it. A send that fails is logged.
     */
    void signal(int signal) {
        pendingSignal.set(signal);
        GuestSession s = session;
        if (s != null) sendPendingSignal(s);
    }

    /** Sends the pending signal, if any, exactly once whichever of the caller and the conversation gets here first. */
    private void sendPendingSignal(GuestSession s) {
        int signal = pendingSignal.getAndSet(0);
        if (signal == 0) return;
        try {
            s.signal(signal);
        } catch (IOException e) {
            log.warn("machine={} could not signal the workload: {}", id, e.getMessage());
        }
    }

    /**
     * Tells the guest that the volume of serial {@code serial} grew to {@code bytes} (its drive was resized), when the
     * guest is connected; a send that fails is logged.
     *
     * @return whether the guest was connected
     */
    boolean volumeGrown(String serial, long bytes) {
        GuestSession s = session;
        if (s == null) return false;
        try {
            s.volumeGrown(serial, bytes);
        } catch (IOException e) {
            log.warn("machine={} could not tell the guest volume {} grew: {}", id, serial, e.getMessage());
        }
        return true;
    }

    /**
     * Freezes ({@code freeze}) or thaws the guest's mounted file system of the volume of serial {@code serial} and
     * waits for the guest's answer, at most {@code wait}.
     *
     * @throws IllegalStateException naming the failure: the guest is not connected, did not answer in time, or could
     *     not (its error number)
     */
    void freeze(String serial, boolean freeze, java.time.Duration wait) throws InterruptedException {
        String what = (freeze ? "freeze" : "thaw") + " volume " + serial + " in machine " + id;
        GuestSession s = session;
        if (s == null) throw new IllegalStateException(what + ": its guest is not connected");
        int requestId = freezeIds.incrementAndGet();
        var answer = new CompletableFuture<Integer>();
        freezes.put(requestId, answer);
        try {
            s.freeze(requestId, freeze, serial);
            int errno = answer.get(wait.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            if (errno != 0) throw new IllegalStateException(what + ": the guest failed with errno " + errno);
        } catch (IOException e) {
            throw new IllegalStateException(what + ": " + e.getMessage(), e);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException(what + ": the guest did not answer within " + wait.toSeconds() + " s");
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(what + ": " + e.getCause(), e.getCause());
        } finally {
            freezes.remove(requestId);
        }
    }

    /**
     * The VM is being suspended: exec calls in flight fail with {@code why}, new ones are refused, until
     * {@link #acceptExecs} (the suspend failed and the VM runs on).
     */
    void refuseExecs(String why) {
        refusal = why;
        execs.failAll(why);
    }

    /** Accepts exec calls again after {@link #refuseExecs}. */
    void acceptExecs() {
        refusal = null;
    }

    /** Stops talking without touching the VMM (agent shutdown); the listener hears nothing more. */
    void detach() {
        detached = true;
        thread.interrupt();
        GuestSession s = session;
        if (s != null) {
            try {
                s.close();
            } catch (IOException e) {
                log.debug("machine={} closing the control channel: {}", id, e.getMessage());
            }
        }
    }

    private void run() {
        Optional<RunEnd> end;
        try (WorkloadLog out = logs.openWorkloadLog(id)) {
            end = converse(out);
        } catch (InterruptedException e) {
            end = Optional.of(RunEnd.failed(RunEnd.Reason.VMM_CRASHED, "supervision of machine " + id
                    + " was interrupted"));
        } catch (OciException | ApiException e) {
            end = Optional.of(RunEnd.failed(RunEnd.Reason.START_FAILED, e.getMessage()));
            process.stop(MachineRunner.HARD_STOP_GRACE);
        }
        execs.failAll("the machine's run ended");
        attachments.failed("the machine's run ended" + end.map(RunEnd::detail).map(d -> ": " + d).orElse(""));
        if (!detached) listener.ended(end);
    }

    /** Talks to the guest until the workload's end is known or the VMM is gone; reconnects when the channel drops. */
    private Optional<RunEnd> converse(WorkloadLog out) throws InterruptedException, OciException {
        long delivered = 0; // frames of this VM persisted and confirmed: the guest keeps the rest for the next session
        while (!detached) {
            ByteChannel channel;
            try {
                channel = process.openControl();
            } catch (IOException e) {
                if (!process.isAlive()) return Optional.empty();
                Thread.sleep(RECONNECT_PAUSE);
                continue;
            }
            try (GuestSession s = new GuestSession(channel, delivered)) {
                if (setClock) {
                    s.setClock(java.time.Instant.now());
                    setClock = false;
                }
                if (identity.isPresent()) {
                    s.setIdentity(identity.get());
                    identity = Optional.empty();
                }
                session = s;
                sendPendingSignal(s);
                while (true) {
                    if (!out.holdsPartialLine()) delivered = s.confirmUnlessWriting();
                    switch (s.next()) {
                        case GuestEvent.Hello hello -> {
                            GuestConfig c = pendingConfig != null ? pendingConfig : rebuild.get();
                            s.sendConfig(c);
                            pendingConfig = null;
                        }
                        case GuestEvent.Started st -> listener.started();
                        case GuestEvent.Output o -> {
                            out.append(o.stream() == GuestEvent.Stream.STDOUT ? LogStream.STDOUT : LogStream.STDERR,
                                    o.data());
                            attachments.output(o.stream(), o.data());
                        }
                        case GuestEvent.ExecEvent x -> execs.deliver(x);
                        case GuestEvent.VolumeFrozen v -> {
                            var answer = freezes.remove(v.requestId());
                            if (answer != null) answer.complete(v.errno());
                        }
                        case GuestEvent.Exited e -> {
                            out.flush();
                            s.confirm();
                            attachments.exited(e.status());
                            s.ack();
                            return Optional.of(RunEnd.exited(RunEnd.Reason.EXITED, e.status()));
                        }
                        case GuestEvent.Failed f -> {
                            s.confirm();
                            s.ack();
                            return Optional.of(RunEnd.failed(RunEnd.Reason.START_FAILED,
                                    "run machine " + id + ": " + f.message()));
                        }
                    }
                }
            } catch (GuestProtocolException e) {
                session = null;
                execs.failAll("the guest broke its control channel");
                if (detached) break;
                log.warn("machine={} guest broke its control channel ({}); stopping it", id, e.getMessage());
                process.stop(MachineRunner.HARD_STOP_GRACE);
                return Optional.of(RunEnd.failed(RunEnd.Reason.GUEST_CHANNEL_BROKEN,
                        "machine " + id + ": its guest broke the control channel: " + e.getMessage()));
            } catch (IOException e) {
                session = null;
                execs.failAll("the guest's control channel dropped");
                if (detached) break;
                if (!process.isAlive()) return Optional.empty();
                log.debug("machine={} control channel dropped ({}); reconnecting", id, e.getMessage());
                Thread.sleep(RECONNECT_PAUSE);
            }
        }
        throw new InterruptedException("detached");
    }

    /**
     * Runs a command in the guest beside the workload, waits for its end, and kills it (SIGKILL to its process group)
     * at the request's timeout.
     */
    ExecResult exec(ExecRequest request) throws InterruptedException {
        GuestSession s = connected();
        ExecCalls.Call call = execs.open(credit(s));
        try {
            s.exec(call.id, guestExec(request, Optional.empty()));
            call.window();
            if (request.stdin() != null && !request.stdin().isEmpty()) {
                s.execInput(call.id, request.stdin().getBytes(StandardCharsets.UTF_8));
            }
            s.execInput(call.id, new byte[0]);
            ExecCalls.End end;
            boolean timedOut = false;
            try {
                end = call.await(Duration.ofSeconds(request.timeoutSeconds()));
            } catch (TimeoutException e) {
                timedOut = true;
                s.execSignal(call.id, SIGKILL);
                s.execCredit(call.id, Integer.MAX_VALUE); // whatever it still has drains, so the guest can end it
                try {
                    end = call.await(EXEC_KILL_GRACE);
                } catch (TimeoutException e2) {
                    end = new ExecCalls.End.Exited(128 + SIGKILL);
                }
            }
            return switch (end) {
                case ExecCalls.End.Exited x -> call.result(x.status(), timedOut);
                case ExecCalls.End.Failed f -> throw ApiException.failedPrecondition(
                        "exec in machine " + id + ": " + f.message());
            };
        } catch (IOException e) {
            throw channelFailed(e);
        } finally {
            execs.close(call);
        }
    }

    /**
     * Starts a command in the guest beside the workload, on a pseudo-terminal when {@code start.tty()}, and returns
     * at once: output and the end go to {@code listener}. The request's stdin, if any, is written first; its
     * timeout, if given, kills the command.
     */
    ExecSession openExec(ExecStream.Start start, ExecSession.Listener listener) {
        GuestSession s = connected();
        ExecRequest request = start.exec();
        ExecCalls.Call call = execs.open(credit(s), listener::output);
        var exec = new StreamedExec(id, s, call.id);
        call.ended().whenComplete((end, error) -> {
            execs.close(call);
            exec.ended();
            switch (end) {
                case ExecCalls.End.Exited x -> listener.exited(x.status());
                case ExecCalls.End.Failed f -> listener.failed(
                        ApiException.failedPrecondition("exec in machine " + id + ": " + f.message()));
            }
        });
        try {
            s.exec(call.id, guestExec(request, start.tty()
                    ? Optional.of(new TerminalSize(start.rows(), start.cols())) : Optional.empty()));
            call.window();
            if (request.stdin() != null && !request.stdin().isEmpty()) {
                s.execInput(call.id, request.stdin().getBytes(StandardCharsets.UTF_8));
            }
        } catch (IOException e) {
            execs.close(call);
            throw channelFailed(e);
        }
        if (request.timeoutS() != null) {
            CompletableFuture.delayedExecutor(request.timeoutS(), TimeUnit.SECONDS).execute(exec::close);
        }
        return exec;
    }

    /**
     * Attaches {@code listener} to the workload: its output and end; the session writes to its stdin and resizes its
     * terminal, and closing it detaches.
     *
     * @throws ApiException {@code conflict} when the workload has ended
     */
    ExecSession attach(ExecSession.Listener listener) {
        return attachments.attach(listener);
    }

    /** @throws ApiException {@code conflict} when the guest is not connected (the channel is being reopened) */
    private GuestSession connected() {
        String refused = refusal;
        if (refused != null) throw ApiException.conflict("exec in machine " + id + ": " + refused);
        GuestSession s = session;
        if (s == null) throw ApiException.conflict("exec in machine " + id + ": its guest is not connected");
        return s;
    }

    private ApiException channelFailed(IOException e) {
        return new ApiException(ErrorCode.INTERNAL,
                "exec in machine " + id + ": the guest's control channel failed: " + e.getMessage());
    }

    /** Grants exec output credit over {@code s}; a failed channel is reported by the reader (it fails every call). */
    private ExecCalls.Grant credit(GuestSession s) {
        return (execId, bytes) -> {
            try {
                s.execCredit(execId, bytes);
            } catch (IOException e) {
                log.debug("machine={} exec {}: credit not sent: {}", id, execId, e.getMessage());
            }
        };
    }

    private static GuestExec guestExec(ExecRequest request, Optional<TerminalSize> tty) {
        List<String> env = request.env().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
        return new GuestExec(request.cmd(), env, Optional.ofNullable(request.workdir()),
                Optional.ofNullable(request.user()), tty);
    }
}
