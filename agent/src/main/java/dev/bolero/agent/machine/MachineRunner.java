package dev.bolero.agent.machine;

import dev.bolero.api.ApiException;
import dev.bolero.api.ErrorCode;
import dev.bolero.core.MachineSpec;
import dev.bolero.core.MachineState;
import dev.bolero.oci.OciException;
import dev.bolero.runtime.Snapshot;
import dev.bolero.runtime.VmProcess;
import dev.bolero.runtime.VmSpec;
import dev.bolero.runtime.VmmException;
import dev.bolero.runtime.guest.GuestConfig;
import dev.bolero.runtime.guest.GuestIdentity;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one machine: every {@link RunnerCommand} for it is handled in arrival order on its mailbox (a virtual thread
 * while there is work), so a stop, a delete, a guest event and a timer never race. Blocking work (pulling the image,
 * spawning and stopping the VMM, the guest conversation) runs off the mailbox and reports back to it. Its
 * {@link MachineHook}s are called at fixed points of each run; after a run, {@link RestartPolicy} decides what follows.
 *
 * <p>A run: start → prepare (hooks, off the mailbox) → spawn the VMM (off the mailbox) → the guest conversation →
 * the workload's end and the VMM's exit → the end recorded → restart, delete or rest.
 */
final class MachineRunner {
    private static final Logger log = LoggerFactory.getLogger(MachineRunner.class);
    /** How long a guest has to freeze or thaw a volume's file system. */
    private static final Duration FREEZE_WAIT = Duration.ofSeconds(30);
    private static final SecureRandom RANDOM = new SecureRandom();
    /** How long a VMM gets to exit on its own once the guest reported the workload's end. */
    static final Duration VMM_EXIT_AFTER_ACK = Duration.ofSeconds(10);
    /** How long a VMM asked to power off gets before it is killed. */
    static final Duration HARD_STOP_GRACE = Duration.ofSeconds(5);

    /** What every runner of a node shares. */
    record Context(MachineBook book, NodeRuntime runtime, List<MachineHook> hooks) {
        Context {
            hooks = List.copyOf(hooks);
        }

        /** The warm-start hook, when the runners have one. */
        Optional<Templates> templates() {
            return hooks.stream().filter(Templates.class::isInstance).map(Templates.class::cast).findFirst();
        }
    }

    private final String id;
    private final Context context;
    private final MachineBook book;
    private final Clock clock;
    /** Called once the machine is deleted: the registry forgets this runner. */
    private final Consumer<MachineRunner> forget;
    private final Queue<RunnerCommand> mailbox = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean draining = new AtomicBoolean();

    // Confined to the mailbox:
    private MachineRun run;
    private int runs;
    /** The pending restart's timer and token; null when none waits. */
    private Clock.Timer restart;
    private int restartToken;
    /** Deleted or detached: requests are answered {@code not_found}, reports dropped. */
    private boolean gone;

    MachineRunner(String id, Context context, Consumer<MachineRunner> forget) {
        this.id = id;
        this.context = context;
        this.book = context.book();
        this.clock = book.clock();
        this.forget = forget;
    }

    /** Queues {@code command}; returns at once. */
    void post(RunnerCommand command) {
        mailbox.add(command);
        if (draining.compareAndSet(false, true)) Thread.ofVirtual().name("runner-" + id).start(this::drain);
    }

    /**
     * Posts {@code request} and waits for its reply.
     *
     * @throws ApiException as the request refused
     */
    <T> T ask(RunnerCommand.Request<T> request) throws InterruptedException {
        post(request);
        try {
            return request.reply().get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new IllegalStateException(e.getCause());
        }
    }

    /** {@link #ask} for requests that do not block for long (start, stop, exec): not interruptible. */
    <T> T askNow(RunnerCommand.Request<T> request) {
        post(request);
        try {
            return request.reply().join();
        } catch (java.util.concurrent.CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) throw r;
            throw new IllegalStateException(e.getCause());
        }
    }

    private void drain() {
        do {
            RunnerCommand c;
            while ((c = mailbox.poll()) != null) handleSafely(c);
            draining.set(false);
        } while (!mailbox.isEmpty() && draining.compareAndSet(false, true));
    }

    private void handleSafely(RunnerCommand c) {
        try {
            if (gone) {
                if (c instanceof RunnerCommand.Request<?> r) {
                    r.reply().completeExceptionally(ApiException.notFound("machine " + id + " not found"));
                }
                return;
            }
            handle(c);
        } catch (RuntimeException e) {
            if (c instanceof RunnerCommand.Request<?> r) {
                r.reply().completeExceptionally(e);
            } else {
                log.error("machine={} handling {} failed", id, c.getClass().getSimpleName(), e);
            }
        }
    }

    private void handle(RunnerCommand command) {
        switch (command) {
            case RunnerCommand.Start s -> s.reply().complete(start());
            case RunnerCommand.Stop s -> s.reply().complete(stop(s.request()));
            case RunnerCommand.Suspend s -> suspend(s);
            case RunnerCommand.Seed s -> seed(s);
            case RunnerCommand.VolumeGrown g -> volumeGrown(g);
            case RunnerCommand.FreezeVolume f -> freezeVolume(f);
            case RunnerCommand.Exec x -> x.reply().complete(conversation());
            case RunnerCommand.Delete d -> delete(d);
            case RunnerCommand.Adopt a -> {
                adopt(a.process());
                a.reply().complete(null);
            }
            case RunnerCommand.Lost l -> {
                afterRun(l.end());
                l.reply().complete(null);
            }
            case RunnerCommand.ResumeRestart r -> {
                scheduleRestart(book.find(id));
                r.reply().complete(null);
            }
            case RunnerCommand.Detach d -> {
                detach();
                d.reply().complete(null);
            }
            case RunnerCommand.Prepared p -> {
                if (current(p.run())) prepared(p.launch());
            }
            case RunnerCommand.Spawned s -> spawned(s);
            case RunnerCommand.Saved v -> {
                if (current(v.run())) saved(v.failure());
            }
            case RunnerCommand.StartFailed f -> {
                if (current(f.run())) finish(f.end());
            }
            case RunnerCommand.GuestStarted g -> {
                if (current(g.run())) guestStarted();
            }
            case RunnerCommand.ConversationEnded e -> {
                if (current(e.run())) conversationEnded(e.end());
            }
            case RunnerCommand.VmmExited v -> {
                if (!current(v.run())) return;
                run.vmmExited = true;
                finishWhenOver();
            }
            case RunnerCommand.TimerFired t -> {
                if (current(t.run())) t.action().run();
            }
            case RunnerCommand.RestartDue r -> {
                if (restart != null && r.token() == restartToken) restartDue(r.attempt());
            }
        }
    }

    private boolean current(int runNumber) {
        return run != null && run.number == runNumber;
    }

    // --- requests ---

    private MachineRecord start() {
        MachineRecord m = book.find(id);
        Lifecycle.require(id, m.state(), Lifecycle.Request.START);
        cancelRestart();
        return launch(0, "started by request");
    }

    private MachineRecord stop(MachineSpec.Stop request) {
        MachineRecord m = book.find(id);
        if (cancelRestart()) {
            book.event(id, "restart_cancelled", m.state(), "stopped by request during the restart backoff");
            return m;
        }
        Lifecycle.require(id, m.state(), Lifecycle.Request.STOP);
        if (m.state() == MachineState.STOPPING) return m;
        if (m.state() == MachineState.SUSPENDED) {
            Snapshot.discard(context.runtime().machineDir(id));
            book.event(id, "snapshot_discarded", m.state(), "stopped by request while suspended");
            return book.recordEnd(id, RunEnd.stoppedByRequest()).orElseThrow();
        }
        if (run != null && run.suspend != null) {
            throw ApiException.conflict("stop machine " + id + ": it is being suspended");
        }
        if (run == null) throw new IllegalStateException("machine " + id + " is " + m.state() + " without a run");
        MachineSpec.Stop effective = request.orElse(m.config().stop());
        MachineRecord stopping = book.update(id, r -> r.withState(MachineState.STOPPING, clock.instant()),
                "signal " + effective.signalNumber() + ", power off after " + effective.timeoutSeconds() + " s");
        requestStop(effective);
        return stopping;
    }

    /** @throws ApiException {@code conflict} when the machine is not running */
    private Conversation conversation() {
        MachineRecord m = book.find(id);
        Lifecycle.require(id, m.state(), Lifecycle.Request.EXEC);
        if (run == null || run.conversation == null) {
            throw ApiException.conflict("exec in machine " + id + ": it is not supervised");
        }
        return run.conversation;
    }

    /**
     * Freezes or thaws a mounted volume's file system in the running VM, off the mailbox (the guest answers over the
     * control channel). A machine whose VMM does not run, or whose run does not mount the volume, has nothing to
     * freeze: the reply is false.
     *
     * @throws IllegalStateException (through the reply) when the VM runs but its guest cannot freeze: it is still
     *     booting, not connected, or failed
     */
    private void freezeVolume(RunnerCommand.FreezeVolume f) {
        MachineRecord m = book.find(id);
        boolean mounts = run != null && run.config().mounts().stream().anyMatch(x -> x.volume().equals(f.volume()));
        if (!mounts || run.process == null) {
            f.reply().complete(false);
            return;
        }
        Conversation conversation = run.conversation;
        if (m.state() != MachineState.RUNNING || conversation == null) {
            f.reply().completeExceptionally(new IllegalStateException((f.freeze() ? "freeze" : "thaw") + " volume "
                    + f.volume() + " in machine " + id + ": it is " + m.state().wireName() + ", its guest not ready"));
            return;
        }
        offMailbox("freeze-volume", () -> {
            try {
                conversation.freeze(f.serial(), f.freeze(), FREEZE_WAIT);
                f.reply().complete(true);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                f.reply().completeExceptionally(e);
            } catch (RuntimeException e) {
                f.reply().completeExceptionally(e);
            }
        });
    }

    /**
     * Grows a mounted volume in the running VM, off the mailbox: its drive is resized, then its guest told to grow the
     * file system. A machine not running (or one whose run does not mount the volume) is left alone: its guest grows
     * the file system at its next mount. A failure is recorded as an event ({@code volume_grow_failed}).
     */
    private void volumeGrown(RunnerCommand.VolumeGrown g) {
        MachineRecord m = book.find(id);
        var mounts = run == null ? List.<MachineSpec.Mount>of() : run.config().mounts();
        int drive = java.util.stream.IntStream.range(0, mounts.size())
                .filter(i -> mounts.get(i).volume().equals(g.volume())).findFirst().orElse(-1);
        if (m.state() != MachineState.RUNNING || drive < 0 || run.process == null || run.conversation == null
                || run.suspend != null || run.stopRequested) {
            g.reply().complete(null);
            return;
        }
        VmProcess process = run.process;
        Conversation conversation = run.conversation;
        String what = "volume " + g.volume() + " grown to " + (g.bytes() >> 20) + " MiB";
        offMailbox("volume-grown", () -> {
            try {
                process.resizeDrive(drive, g.bytes());
                if (!conversation.volumeGrown(g.serial(), g.bytes())) {
                    throw new IllegalStateException("its guest is not connected (it grows at the next mount)");
                }
                book.event(id, "volume_grown", MachineState.RUNNING, what + ": drive resized, file system grown by "
                        + "the guest");
                g.reply().complete(null);
            } catch (VmmException | RuntimeException e) {
                book.current(id).ifPresent(r -> book.event(id, "volume_grow_failed", r.state(), what + ": "
                        + e.getMessage()));
                g.reply().completeExceptionally(e);
            }
        });
    }

    /**
     * Saves the running VM's state and ends its VMM, off the mailbox; exec calls in flight fail. Replies once the
     * machine is {@code suspended}.
     *
     * @throws ApiException {@code conflict} when it is not running (or is already being suspended or stopped),
     *     {@code failed_precondition} when the node's driver cannot save a VM's state
     */
    private void suspend(RunnerCommand.Suspend s) {
        MachineRecord m = book.find(id);
        Lifecycle.require(id, m.state(), Lifecycle.Request.SUSPEND);
        if (run == null || run.process == null || run.conversation == null) {
            throw ApiException.conflict("suspend machine " + id + ": it is not supervised");
        }
        if (run.suspend != null || run.stopRequested) {
            throw ApiException.conflict("suspend machine " + id + ": it is already being "
                    + (run.suspend != null ? "suspended" : "stopped"));
        }
        if (!context.runtime().driver().capabilities().snapshot()) {
            throw ApiException.failedPrecondition("suspend machine " + id + ": the " + context.runtime().driver().name()
                    + " driver cannot save a VM's state on this node");
        }
        MachineRun r = run;
        r.suspend = s.reply();
        r.conversation.refuseExecs("the machine is being suspended");
        Map<String, String> dependencies = snapshotDependencies(m);
        offMailbox("suspend", () -> {
            Optional<String> failure = Optional.empty();
            try {
                r.process.suspend(dependencies);
            } catch (VmmException | RuntimeException e) {
                failure = Optional.of(e.getMessage());
            }
            post(new RunnerCommand.Saved(r.number, failure));
        });
    }

    /**
     * Saves the running VM's state into a seed for new machines, off the mailbox; the VM runs on. Replies once the
     * seed is complete.
     *
     * @throws ApiException {@code conflict} when it is not running (or is being suspended or stopped)
     */
    private void seed(RunnerCommand.Seed s) {
        MachineRecord m = book.find(id);
        Lifecycle.require(id, m.state(), Lifecycle.Request.FORK);
        if (run == null || run.process == null || run.suspend != null
                || run.stopRequested) {
            throw ApiException.conflict(s.action() + ": it is not running");
        }
        VmProcess process = run.process;
        offMailbox("seed", () -> {
            try {
                process.seed(s.seed());
                s.reply().complete(null);
            } catch (VmmException | RuntimeException e) {
                s.reply().completeExceptionally(new ApiException(ErrorCode.INTERNAL, s.action() + ": "
                        + e.getMessage()));
            }
        });
    }

    /** The suspend's save is over: the run ends suspended once its VMM and conversation are gone, or runs on. */
    private void saved(Optional<String> failure) {
        if (failure.isPresent()) {
            CompletableFuture<MachineRecord> reply = run.suspend;
            run.suspend = null;
            run.conversation.acceptExecs();
            book.event(id, "suspend_failed", book.find(id).state(), failure.get());
            reply.completeExceptionally(new ApiException(ErrorCode.INTERNAL, "suspend machine " + id + ": "
                    + failure.get()));
            return;
        }
        run.saveReported = true;
        if (run.destroying) {
            run.suspend.completeExceptionally(ApiException.notFound("suspend machine " + id + ": it was deleted"));
        } else {
            run.suspended = true;
        }
        finishWhenOver();
    }

    /**
     * What a machine's snapshot depends on beside the VM's launch: its config and its image. A snapshot taken under
     * another config or image is not resumed.
     */
    static Map<String, String> snapshotDependencies(MachineRecord m) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest(m.config().toString().getBytes(StandardCharsets.UTF_8));
            return Map.of("machine config", "sha256:" + HexFormat.of().formatHex(digest),
                    "image", m.imageDigest().orElse("none"));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private void delete(RunnerCommand.Delete d) {
        MachineRecord m = book.find(id);
        if (!d.force()) Lifecycle.require(id, m.state(), Lifecycle.Request.DELETE);
        cancelRestart();
        if (run == null) {
            destroy();
            d.reply().complete(null);
            return;
        }
        run.deletes.add(d.reply());
        if (run.destroying) return;
        run.destroy();
        if (run.process != null) kill(run.process);
    }

    private void adopt(VmProcess process) {
        MachineRecord m = book.find(id);
        run = newRun(m);
        run.started = m.state() == MachineState.RUNNING || m.state() == MachineState.STOPPING;
        supervise(process, null, false, Optional.empty());
        if (m.state() == MachineState.STOPPING) requestStop(m.config().stop()); // its timer died with the agent
    }

    private void detach() {
        if (restart != null) restart.cancel();
        restart = null;
        if (run != null) {
            run.cancelTimers();
            if (run.conversation != null) run.conversation.detach();
            run.deletes.forEach(f -> f.completeExceptionally(
                    ApiException.unavailable("delete machine " + id + ": the agent is shutting down")));
            if (run.suspend != null) {
                run.suspend.completeExceptionally(
                        ApiException.unavailable("suspend machine " + id + ": the agent is shutting down"));
            }
        }
        gone = true;
    }

    // --- a run ---

    private MachineRun newRun(MachineRecord m) {
        return new MachineRun(++runs, id, m.config(), context.runtime().machineDir(id), clock, this::post,
                () -> context.runtime().network().ip(id),
                (type, detail) -> book.current(id).ifPresent(r -> book.event(id, type, r.state(), detail)));
    }

    /**
     * Moves the machine to {@code starting} and prepares its launch off the mailbox.
     *
     * @throws ApiException {@code failed_precondition} when the node cannot fit it
     */
    private MachineRecord launch(int restartCount, String why) {
        MachineRecord starting = book.claimStart(id, restartCount, why);
        MachineRun r = run = newRun(starting);
        offMailbox("prepare", () -> {
            try {
                post(new RunnerCommand.Prepared(r.number, prepare(starting)));
            } catch (OciException | ApiException e) {
                post(new RunnerCommand.StartFailed(r.number, RunEnd.failed(RunEnd.Reason.START_FAILED, e.getMessage())));
            } catch (RuntimeException e) {
                post(new RunnerCommand.StartFailed(r.number, unexpected(e)));
            }
        });
        return starting;
    }

    /** The launch as the hooks prepare it, told how long that took; blocks. */
    private Launch prepare(MachineRecord m) throws OciException {
        Launch launch = new Launch(m, Snapshot.exists(context.runtime().machineDir(id)));
        long started = System.nanoTime();
        boolean succeeded = false;
        try {
            for (MachineHook h : context.hooks()) h.prepare(launch);
            succeeded = true;
            return launch;
        } finally {
            Duration took = Duration.ofNanos(System.nanoTime() - started);
            for (MachineHook h : context.hooks()) h.prepared(id, took, succeeded);
        }
    }

    private void prepared(Launch launch) {
        book.update(id, r -> r.withImageDigest(launch.image().digest().toString(), clock.instant()), "");
        if (run.stopRequested) {
            finish(RunEnd.stoppedByRequest());
            return;
        }
        int number = run.number;
        NodeRuntime rt = context.runtime();
        Map<String, String> dependencies = snapshotDependencies(book.find(id));
        Optional<Templates> templates = context.templates();
        BiConsumer<String, String> event = (type, detail) -> book.event(id, type, MachineState.STARTING, detail);
        offMailbox("spawn", () -> {
            try {
                GuestConfig guest = launch.guestConfig();
                VmSpec spec = launch.vmSpec(rt.machineDir(id), rt.boot().get(), HARD_STOP_GRACE);
                Optional<TemplateStore.Template> template = Snapshot.exists(spec.workDir()) ? Optional.empty()
                        : templates.flatMap(t -> t.plant(id, spec, dependencies, event));
                Optional<String> discarded = Optional.empty();
                if (Snapshot.exists(spec.workDir())) {
                    discarded = rt.driver().snapshotUnusable(spec, dependencies);
                    if (discarded.isEmpty()) {
                        try {
                            Optional<GuestIdentity> identity = Snapshot.planted(spec.workDir())
                                    ? Optional.of(identity(guest, spec)) : Optional.empty();
                            post(new RunnerCommand.Spawned(number, rt.driver().resume(spec), guest, true,
                                    Optional.empty(), identity, template));
                            return;
                        } catch (VmmException e) {
                            discarded = Optional.of(e.getMessage());
                        }
                    }
                    Snapshot.discard(spec.workDir());
                    if (template.isPresent()) { // the template's fault, not the machine's: it goes
                        templates.get().discard(template.get(), discarded.get(), event);
                        discarded = Optional.empty();
                    }
                }
                VmProcess process = rt.driver().start(spec);
                post(new RunnerCommand.Spawned(number, process, guest, false, discarded, Optional.empty(),
                        Optional.empty()));
            } catch (VmmException | ApiException e) {
                post(new RunnerCommand.StartFailed(number, RunEnd.failed(RunEnd.Reason.START_FAILED, e.getMessage())));
            } catch (IOException e) {
                post(new RunnerCommand.StartFailed(number, RunEnd.failed(RunEnd.Reason.START_FAILED,
                        "start machine " + id + ": prepare boot assets: " + e.getMessage())));
            } catch (RuntimeException e) {
                post(new RunnerCommand.StartFailed(number, unexpected(e)));
            }
        });
    }

    /**
     * The identity of a clone resumed from its source's state: its own hostname, MAC and address (as a boot would
     * give them), a random machine-id and fresh entropy.
     */
    private static GuestIdentity identity(GuestConfig guest, VmSpec spec) {
        byte[] machineId = new byte[16];
        byte[] entropy = new byte[64];
        RANDOM.nextBytes(machineId);
        RANDOM.nextBytes(entropy);
        return new GuestIdentity(guest.hostname(), spec.taps().stream().map(VmSpec.Tap::mac).findFirst(), guest.ip(),
                guest.gateway(), HexFormat.of().formatHex(machineId), entropy);
    }

    private RunEnd unexpected(RuntimeException e) {
        log.error("machine={} start failed", id, e);
        return RunEnd.failed(RunEnd.Reason.START_FAILED, "start machine " + id + ": " + e);
    }

    private void spawned(RunnerCommand.Spawned s) {
        if (!current(s.run())) { // cannot happen while a spawn is under way; never leave a VMM behind
            kill(s.process());
            return;
        }
        book.update(id, r -> r.withVmHandle(Optional.of(s.process().handle()), clock.instant()), "");
        s.discarded().ifPresent(why -> book.event(id, "snapshot_discarded", MachineState.STARTING,
                "booted instead of resuming: " + why));
        log.info("machine={} vmm {} pid={}", id, s.resumed() ? "resumed" : "started", s.process().handle().pid());
        run.booted = !s.resumed();
        supervise(s.process(), s.resumed() ? null : s.config(), s.resumed(), s.identity());
        if (s.template().isPresent()) {
            TemplateStore.Template t = s.template().get();
            book.event(id, "started_from_template", MachineState.STARTING, "template " + t.key() + " of image "
                    + t.imageDigest() + ", taken from machine " + t.source() + " at " + t.takenAt() + "; VMM pid "
                    + s.process().handle().pid());
            guestStarted(); // the template's workload runs already
        } else if (s.resumed()) {
            book.event(id, "resumed", MachineState.STARTING, (s.identity().isPresent() ? "from its source's state"
                    : "from its snapshot") + ", VMM pid " + s.process().handle().pid());
            guestStarted(); // the workload never stopped
        }
        if (run.destroying) {
            kill(s.process());
        } else if (run.stopRequested) {
            run.powerOff("stopped by request before the guest booted");
        }
    }

    /**
     * Watches {@code process}'s exit and talks to its guest; {@code config} null for a re-adopted or resumed VM
     * ({@code resumed}: its clock is set; with an {@code identity}, a fork's clone, which takes it).
     */
    private void supervise(VmProcess process, GuestConfig config, boolean resumed, Optional<GuestIdentity> identity) {
        MachineRun r = run;
        r.process = process;
        process.exit().whenComplete((exit, error) -> post(new RunnerCommand.VmmExited(r.number)));
        MachineRecord m = book.find(id);
        r.conversation = Conversation.start(id, process, context.runtime().logs(), config,
                () -> prepare(m).guestConfig(), new Conversation.Listener() {
                    @Override
                    public void started() {
                        post(new RunnerCommand.GuestStarted(r.number));
                    }

                    @Override
                    public void ended(Optional<RunEnd> end) {
                        post(new RunnerCommand.ConversationEnded(r.number, end));
                    }
                }, resumed, identity);
        context.hooks().forEach(h -> h.spawned(r));
    }

    private void guestStarted() {
        run.started = true;
        book.update(id, r -> r.state() == MachineState.STARTING
                ? r.withState(MachineState.RUNNING, clock.instant()) : r, "");
        log.info("machine={} workload started", id);
        context.hooks().forEach(h -> h.started(run));
    }

    private void requestStop(MachineSpec.Stop stop) {
        run.stopRequested = true;
        Duration timeout = Duration.ofSeconds(stop.timeoutSeconds());
        boolean signalled = run.started && run.conversation != null;
        if (signalled) {
            run.conversation.signal(stop.signalNumber()); // sent when its guest connects, if it is not yet
        } else {
            timeout = Duration.ZERO;
        }
        String reason = "stopped by request; the workload did not exit within " + timeout.toSeconds() + " s";
        if (timeout.isZero()) {
            run.powerOff(reason);
        } else {
            MachineRun r = run;
            r.schedule(timeout, () -> r.powerOff(reason));
        }
    }

    private void conversationEnded(Optional<RunEnd> end) {
        run.conversationEnded(end);
        if (end.isPresent() && !run.vmmExited) {
            MachineRun r = run;
            r.schedule(VMM_EXIT_AFTER_ACK, () -> {
                log.warn("machine={} VMM still running {} s after the guest finished; stopping it", id,
                        VMM_EXIT_AFTER_ACK.toSeconds());
                offMailbox("stop", () -> r.process.stop(HARD_STOP_GRACE));
            });
        }
        finishWhenOver();
    }

    /** Ends the run once both its conversation is over and its VMM has exited. */
    private void finishWhenOver() {
        if (run.over()) finish(run.end());
    }

    /** The run is over: its timers go, its hooks hear it, and then the machine is deleted or the end recorded. */
    private void finish(RunEnd runEnd) {
        MachineRun r = run;
        run = null;
        r.cancelTimers();
        RunEnd end = r.suspended ? RunEnd.suspended() : runEnd;
        context.hooks().forEach(h -> h.ended(r, end));
        if (r.suspended) {
            MachineRecord suspended = book.update(id, m -> m.withState(MachineState.SUSPENDED, clock.instant())
                    .withVmHandle(Optional.empty(), clock.instant()), "memory and device state saved, VMM ended");
            log.info("machine={} suspended", id);
            r.suspend.complete(suspended);
            return;
        }
        if (r.destroying) {
            try {
                destroy();
                r.deletes.forEach(f -> f.complete(null));
            } catch (RuntimeException e) {
                r.deletes.forEach(f -> f.completeExceptionally(e));
            }
            return;
        }
        log.info("machine={} ended: {} {}", id, end.reason().wire, end.detail());
        afterRun(end);
    }

    /** Records {@code end} and restarts, deletes or leaves the machine as {@link RestartPolicy} decides. */
    private void afterRun(RunEnd end) {
        Optional<MachineRecord> ended = book.recordEnd(id, end);
        if (ended.isEmpty()) return;
        switch (RestartPolicy.after(end, ended.get().config(), ended.get().restartCount())) {
            case RestartPolicy.AfterRun.Restart r -> scheduleRestart(ended.get());
            case RestartPolicy.AfterRun.Destroy d -> {
                try {
                    destroy();
                } catch (RuntimeException e) {
                    log.warn("machine={} auto_destroy failed: {}", id, e.toString());
                }
            }
            case RestartPolicy.AfterRun.Rest r -> { }
        }
    }

    private void scheduleRestart(MachineRecord m) {
        int attempt = m.restartCount() + 1;
        Duration delay = RestartPolicy.backoff(m.restartCount());
        book.event(id, "restarting", m.state(), "restart " + attempt + " in " + delay.toMillis() + " ms (policy "
                + m.config().restart().policy() + ")");
        int token = ++restartToken;
        restart = clock.schedule(delay, () -> post(new RunnerCommand.RestartDue(token, attempt)));
    }

    private void restartDue(int attempt) {
        restart = null;
        MachineRecord m = book.find(id);
        try {
            launch(attempt, "restart " + attempt + " under policy " + m.config().restart().policy());
        } catch (RuntimeException e) {
            log.warn("machine={} restart failed: {}", id, e.toString());
            book.current(id).ifPresent(r -> book.event(id, "restart_failed", r.state(), e.getMessage()));
        }
    }

    /** Cancels a restart waiting out its backoff; whether there was one. */
    private boolean cancelRestart() {
        if (restart == null) return false;
        restart.cancel();
        restart = null;
        return true;
    }

    /** Deletes the machine's row, lets its hooks release what they hold, and removes its files. */
    private void destroy() {
        gone = true;
        forget.accept(this);
        book.delete(id);
        context.hooks().forEach(h -> h.deleted(id));
        MachineFiles.deleteRecursively(context.runtime().machineDir(id));
        log.info("machine={} destroyed", id);
    }

    private void kill(VmProcess process) {
        offMailbox("kill", process::kill);
    }

    private void offMailbox(String what, Runnable task) {
        Thread.ofVirtual().name(what + "-" + id).start(task);
    }
}
