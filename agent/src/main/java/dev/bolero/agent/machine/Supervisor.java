package dev.bolero.agent.machine;

import dev.bolero.agent.logs.LogStream;
import dev.bolero.agent.logs.WorkloadLog;
import dev.bolero.agent.logs.LogStore;
import dev.bolero.network.Attachment;
import dev.bolero.api.ApiException;
import dev.bolero.api.ErrorCode;
import dev.bolero.api.ExecRequest;
import dev.bolero.api.ExecResult;
import dev.bolero.api.ExecStream;
import dev.bolero.core.MachineSpec;
import dev.bolero.core.MachineState;
import dev.bolero.oci.OciException;
import dev.bolero.oci.PreparedImage;
import dev.bolero.runtime.VmProcess;
import dev.bolero.runtime.VmSpec;
import dev.bolero.runtime.VmmException;
import dev.bolero.runtime.guest.GuestConfig;
import dev.bolero.runtime.guest.GuestEvent;
import dev.bolero.runtime.guest.GuestExec;
import dev.bolero.runtime.guest.GuestSession;
import dev.bolero.runtime.guest.TerminalSize;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.ByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one machine from start to end on its own virtual thread: pulls the image, starts the VMM, speaks the guest
 * protocol (config, output, exit), enforces the boot deadline and stop timeouts, and records the outcome. A
 * re-adopted machine enters at the protocol step.
 */
final class Supervisor {
    private static final Logger log = LoggerFactory.getLogger(Supervisor.class);
    private static final Duration VMM_EXIT_AFTER_ACK = Duration.ofSeconds(10);
    private static final Duration HARD_STOP_GRACE = Duration.ofSeconds(5);
    private static final Duration RECONNECT_PAUSE = Duration.ofMillis(100);
    private static final String ROOT_DEVICE = "/dev/vda";
    private static final Duration EXEC_KILL_GRACE = Duration.ofSeconds(5);
    private static final int SIGKILL = 9;

    private final MachineService service;
    private final MachineService.Runtime runtime;
    private final String id;
    private final MachineSpec config;
    private final String name;

    private volatile Thread thread;
    private volatile VmProcess vm;
    private volatile GuestSession session;
    private volatile boolean started;
    private volatile boolean detached;
    /** Why the run is being ended from outside, if it is: set by stop, kill, or the boot watchdog. */
    private volatile String endReason;
    private volatile boolean stopRequested;
    /** The config to send on HELLO; null for an adopted machine (rebuilt if its guest asks again). */
    private volatile GuestConfig pendingConfig;
    private final ExecCalls execs = new ExecCalls();

    Supervisor(MachineService service, MachineService.Runtime runtime, MachineRecord machine) {
        this.service = service;
        this.runtime = runtime;
        this.id = machine.id();
        this.name = machine.name();
        this.config = machine.config();
        this.started = machine.state() == MachineState.RUNNING || machine.state() == MachineState.STOPPING;
    }

    /** Starts a fresh run: pull, boot, run. */
    void launch() {
        thread = Thread.ofVirtual().name("machine-" + id).start(this::runFresh);
    }

    /** Continues supervising a VMM a previous agent started. */
    void adopt(VmProcess process) {
        this.vm = process;
        thread = Thread.ofVirtual().name("machine-" + id).start(() -> supervise(process));
    }

    /** Sends the workload {@code signal}; powers the VM off if it still runs after {@code timeout}. */
    void requestStop(int signal, Duration timeout) {
        stopRequested = true;
        GuestSession s = session;
        if (s != null && started) {
            try {
                s.signal(signal);
            } catch (IOException e) {
                log.warn("machine={} could not signal the workload: {}", id, e.getMessage());
            }
        } else {
            timeout = Duration.ZERO;
        }
        Duration wait = timeout;
        Thread.ofVirtual().name("stop-" + id).start(() -> {
            try {
                Thread.sleep(wait);
            } catch (InterruptedException e) {
                return;
            }
            powerOff("stopped by request; the workload did not exit within " + wait.toSeconds() + " s");
        });
    }

    /** Kills the VMM at once and waits until this supervisor has recorded the end. */
    void killAndJoin() throws InterruptedException {
        stopRequested = true;
        endReason = "destroyed";
        VmProcess p = vm;
        if (p != null) p.kill();
        Thread t = thread;
        if (t != null) t.join();
    }

    /** Stops supervising without touching the VMM (agent shutdown). */
    void detach() {
        detached = true;
        Thread t = thread;
        if (t != null) t.interrupt();
        GuestSession s = session;
        if (s != null) {
            try {
                s.close();
            } catch (IOException e) {
                log.debug("machine={} closing the control channel: {}", id, e.getMessage());
            }
        }
    }

    /**
     * Runs a command in the guest beside the workload, waits for its end, and kills it (SIGKILL to its process group)
     * at the request's timeout.
     */
    ExecResult exec(ExecRequest request) throws InterruptedException {
        GuestSession s = session;
        if (s == null || !started) {
            throw ApiException.conflict("exec in machine " + id + ": its guest is not connected");
        }
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
            throw new ApiException(ErrorCode.INTERNAL,
                    "exec in machine " + id + ": the guest's control channel failed: " + e.getMessage());
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
        GuestSession s = session;
        if (s == null || !started) {
            throw ApiException.conflict("exec in machine " + id + ": its guest is not connected");
        }
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
            throw new ApiException(ErrorCode.INTERNAL,
                    "exec in machine " + id + ": the guest's control channel failed: " + e.getMessage());
        }
        if (request.timeoutS() != null) {
            CompletableFuture.delayedExecutor(request.timeoutS(), TimeUnit.SECONDS).execute(exec::close);
        }
        return exec;
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

    /** The machine's root drive size: 0 for the image's own, else guest.rootfs_mb, which must not be smaller. */
    private long rootDriveBytes(PreparedImage image) {
        Integer mb = config.guest().rootfsMb();
        if (mb == null) return 0;
        long bytes = mb * 1024L * 1024;
        if (bytes < image.rootDriveBytes()) {
            throw ApiException.failedPrecondition("start machine " + id + ": guest.rootfs_mb " + mb + " is smaller than the root drive of " + config.image()
                    + " (" + (image.rootDriveBytes() + 1024 * 1024 - 1) / (1024 * 1024) + " MiB)");
        }
        return bytes;
    }

    private void runFresh() {
        try {
            PreparedImage image = runtime.images().prepare(config.image().value());
            service.update(id, r -> r.withImageDigest(image.digest().toString(), service.clock().instant()));
            WorkloadSpec workload = WorkloadSpec.merge(config.image().value(), image.config(), config.init(),
                    config.env());
            if (stopRequested) {
                finish(RunEnd.stoppedByRequest());
                return;
            }
            GuestConfig guest = guestConfig(workload);
            List<VmSpec.Tap> taps = runtime.network().attachment(id)
                    .map(a -> List.of(new VmSpec.Tap(a.tapName(), a.mac()))).orElse(List.of());
            VmSpec spec = new VmSpec(id, runtime.machinesDir().resolve(id), config.guest().cpus(),
                    config.guest().memoryMb(), runtime.boot().get(), image.rootDrive(), taps,
                    HARD_STOP_GRACE, rootDriveBytes(image));
            VmProcess process = runtime.driver().start(spec);
            vm = process;
            service.update(id, r -> r.withVmHandle(Optional.of(process.handle()), service.clock().instant()));
            if (stopRequested) powerOff("stopped by request before the guest booted");
            log.info("machine={} vmm started pid={}", id, process.handle().pid());
            pendingConfig = guest;
            supervise(process);
        } catch (OciException | VmmException | ApiException e) {
            finish(RunEnd.failed(RunEnd.Reason.START_FAILED, e.getMessage()));
        } catch (IOException e) {
            finish(RunEnd.failed(RunEnd.Reason.START_FAILED,
                    "start machine " + id + ": prepare boot assets: " + e.getMessage()));
        } catch (RuntimeException e) {
            log.error("machine={} start failed", id, e);
            finish(RunEnd.failed(RunEnd.Reason.START_FAILED, "start machine " + id + ": " + e));
        }
    }

    private void supervise(VmProcess process) {
        Thread watchdog = started ? null : Thread.ofVirtual().name("boot-deadline-" + id).start(this::bootWatchdog);
        RunEnd outcome;
        try (WorkloadLog out = runtime.logs().openWorkloadLog(id)) {
            outcome = converse(process, out);
        } catch (InterruptedException e) {
            outcome = null;
        } catch (OciException | ApiException e) {
            outcome = RunEnd.failed(RunEnd.Reason.START_FAILED, e.getMessage());
            process.stop(HARD_STOP_GRACE);
        }
        if (watchdog != null) watchdog.interrupt();
        execs.failAll("the machine's run ended");
        if (detached) return;
        if (outcome == null) {
            outcome = RunEnd.failed(RunEnd.Reason.VMM_CRASHED, "supervision of machine " + id + " was interrupted");
        }
        awaitVmmExit(process);
        finish(outcome);
    }

    /** Talks to the guest until the workload's end is known or the VMM is gone; reconnects when the channel drops. */
    private RunEnd converse(VmProcess process, WorkloadLog out) throws InterruptedException, OciException {
        long delivered = 0; // frames of this VM persisted and confirmed: the guest keeps the rest for the next session
        while (!detached) {
            ByteChannel channel;
            try {
                channel = process.openControl();
            } catch (IOException e) {
                if (!process.isAlive()) return vmmGone(process);
                Thread.sleep(RECONNECT_PAUSE);
                continue;
            }
            try (GuestSession s = new GuestSession(channel, delivered)) {
                session = s;
                while (true) {
                    if (!out.holdsPartialLine()) delivered = s.confirm();
                    GuestEvent event = s.next();
                    switch (event) {
                        case GuestEvent.Hello hello -> {
                            GuestConfig c = pendingConfig != null ? pendingConfig : rebuildConfig();
                            s.sendConfig(c);
                            pendingConfig = null;
                        }
                        case GuestEvent.Started st -> {
                            started = true;
                            service.update(id, r -> r.state() == MachineState.STARTING
                                    ? r.withState(MachineState.RUNNING, service.clock().instant()) : r);
                            log.info("machine={} workload started", id);
                        }
                        case GuestEvent.Output o -> out.append(
                                o.stream() == GuestEvent.Stream.STDOUT ? LogStream.STDOUT : LogStream.STDERR, o.data());
                        case GuestEvent.ExecEvent x -> execs.deliver(x);
                        case GuestEvent.Exited e -> {
                            out.flush();
                            s.confirm();
                            s.ack();
                            RunEnd.Reason why = stopRequested ? RunEnd.Reason.STOPPED_BY_REQUEST
                                    : e.status() == 128 + SIGKILL && consoleShowsOom() ? RunEnd.Reason.OOM
                                    : RunEnd.Reason.EXITED;
                            return RunEnd.exited(why, e.status());
                        }
                        case GuestEvent.Failed f -> {
                            s.confirm();
                            s.ack();
                            return RunEnd.failed(RunEnd.Reason.START_FAILED, "run machine " + id + ": " + f.message());
                        }
                    }
                }
            } catch (IOException e) {
                session = null;
                execs.failAll("the guest's control channel dropped");
                if (detached) return null;
                if (!process.isAlive()) return vmmGone(process);
                log.debug("machine={} control channel dropped ({}); reconnecting", id, e.getMessage());
                Thread.sleep(RECONNECT_PAUSE);
            }
        }
        return null;
    }

    private RunEnd vmmGone(VmProcess process) {
        String reason = endReason;
        if (reason != null && stopRequested) return RunEnd.stoppedByRequest();
        if (reason != null && !started) return RunEnd.failed(RunEnd.Reason.BOOT_TIMEOUT, reason);
        if (reason != null) return RunEnd.failed(RunEnd.Reason.VMM_CRASHED, reason);
        String diagnostics = process.diagnostics(2000).strip();
        RunEnd.Reason why = consoleShowsOom() ? RunEnd.Reason.OOM : RunEnd.Reason.VMM_CRASHED;
        return RunEnd.failed(why, "machine " + id + ": the VMM exited unexpectedly: " + diagnostics);
    }

    /** Whether the guest kernel's console reports an out-of-memory kill (the last 64 KiB are searched). */
    private boolean consoleShowsOom() {
        Path console = runtime.machinesDir().resolve(id).resolve(LogStore.CONSOLE_FILE);
        try (InputStream in = Files.newInputStream(console)) {
            in.skipNBytes(Math.max(0, Files.size(console) - 64 * 1024));
            String tail = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return tail.contains("Out of memory") || tail.contains("oom-kill");
        } catch (IOException e) {
            return false;
        }
    }

    private void bootWatchdog() {
        try {
            Thread.sleep(runtime.bootDeadline());
        } catch (InterruptedException e) {
            return;
        }
        if (!started && !stopRequested) {
            Duration deadline = runtime.bootDeadline();
            powerOff("boot timeout: the guest did not start the workload within "
                    + (deadline.toMillis() % 1000 == 0 ? deadline.toSeconds() + " s" : deadline.toMillis() + " ms"));
        }
    }

    private void powerOff(String reason) {
        VmProcess p = vm;
        if (p == null || !p.isAlive()) return;
        endReason = reason;
        log.info("machine={} powering off: {}", id, reason);
        p.stop(HARD_STOP_GRACE);
    }

    private void awaitVmmExit(VmProcess process) {
        try {
            process.exit().get(VMM_EXIT_AFTER_ACK.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            log.warn("machine={} VMM still running {} s after the guest finished; stopping it", id,
                    VMM_EXIT_AFTER_ACK.toSeconds());
            process.stop(HARD_STOP_GRACE);
        }
    }

    /** The guest's config for a re-adopted machine whose guest had not received it yet. */
    private GuestConfig rebuildConfig() throws OciException {
        PreparedImage image = runtime.images().prepare(config.image().value());
        return guestConfig(WorkloadSpec.merge(config.image().value(), image.config(), config.init(), config.env()));
    }

    private GuestConfig guestConfig(WorkloadSpec w) {
        Optional<Attachment> net = runtime.network().attachment(id);
        return new GuestConfig(w.argv(), w.env(), w.workdir(), w.user(), name, ROOT_DEVICE,
                net.map(Attachment::ipCidr), net.map(Attachment::gateway), net.map(Attachment::dns).orElse(List.of()));
    }

    private void finish(RunEnd outcome) {
        if ("destroyed".equals(endReason)) {
            service.ended(id, this, null);
            return;
        }
        log.info("machine={} ended: {} {}", id, outcome.reason().wire, outcome.detail());
        service.ended(id, this, outcome);
    }
}
