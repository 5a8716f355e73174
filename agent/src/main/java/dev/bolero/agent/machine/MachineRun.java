package dev.bolero.agent.machine;

import dev.bolero.agent.logs.LogStore;
import dev.bolero.core.MachineSpec;
import dev.bolero.runtime.VmProcess;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One run of a machine, from its start (or re-adoption) to its recorded end: what its {@link MachineRunner} knows of
 * it, and how its end is told from what happened. Used on the runner's mailbox only.
 */
final class MachineRun implements MachineHook.Run {
    private static final Logger log = LoggerFactory.getLogger(MachineRun.class);
    private static final int SIGKILL = 9;

    /** The run's number on its runner: reports of other runs are dropped. */
    final int number;
    private final String machineId;
    private final MachineSpec config;
    private final Path machineDir;
    private final Clock clock;
    private final Consumer<RunnerCommand> mailbox;
    private final Supplier<Optional<String>> address;
    private final BiConsumer<String, String> events;
    private final List<Clock.Timer> timers = new ArrayList<>();
    /** Deletes waiting for the run to end. */
    final List<CompletableFuture<Void>> deletes = new ArrayList<>();
    VmProcess process;
    Conversation conversation;
    boolean started;
    /** The run booted its guest (it did not resume a saved state, nor re-adopt a running VMM). */
    boolean booted;
    boolean stopRequested;
    boolean destroying;
    boolean conversationEnded;
    boolean vmmExited;
    /** The suspend request under way, if any; its reply completes once the machine is suspended. */
    CompletableFuture<MachineRecord> suspend;
    /** The suspend's save reported its outcome: until it has, the run does not end (its VMM's exit is part of it). */
    boolean saveReported;
    /** The VMM saved the VM's state and ended: the run ends in {@code suspended}. */
    boolean suspended;
    /** Why the run is being ended from outside, if it is: a stop, a delete, or a hook's power-off. */
    private String endReason;
    /** Set when a failing health check ended the run: the end's detail. */
    private String checkFailure;
    /** The workload's end as the guest reported it, once the conversation is over. */
    private Optional<RunEnd> workloadEnd = Optional.empty();

    /**
     * @param mailbox where the run's reports go (its runner's mailbox)
     * @param address the machine's current address, if any
     * @param events records a machine event: type and detail
     */
    MachineRun(int number, String machineId, MachineSpec config, Path machineDir, Clock clock,
            Consumer<RunnerCommand> mailbox, Supplier<Optional<String>> address, BiConsumer<String, String> events) {
        this.number = number;
        this.machineId = machineId;
        this.config = config;
        this.machineDir = machineDir;
        this.clock = clock;
        this.mailbox = mailbox;
        this.address = address;
        this.events = events;
    }

    @Override
    public String machineId() {
        return machineId;
    }

    @Override
    public MachineSpec config() {
        return config;
    }

    @Override
    public boolean started() {
        return started;
    }

    @Override
    public boolean booted() {
        return booted;
    }

    @Override
    public boolean stopRequested() {
        return stopRequested;
    }

    @Override
    public void schedule(Duration delay, Runnable action) {
        timers.add(clock.schedule(delay, () -> mailbox.accept(new RunnerCommand.TimerFired(number, action))));
    }

    @Override
    public void powerOff(String reason) {
        VmProcess p = process;
        if (p == null || !p.isAlive()) return;
        endReason = reason;
        log.info("machine={} powering off: {}", machineId, reason);
        Thread.ofVirtual().name("power-off-" + machineId).start(() -> p.stop(MachineRunner.HARD_STOP_GRACE));
    }

    @Override
    public void failCheck(String reason) {
        if (process == null || !process.isAlive() || stopRequested) return;
        checkFailure = reason;
        powerOff(reason);
    }

    @Override
    public long vmmPid() {
        return process.handle().pid();
    }

    @Override
    public Optional<String> address() {
        return address.get();
    }

    @Override
    public Optional<MachineHook.GuestCommands> guest() {
        Conversation c = conversation;
        return c == null ? Optional.empty() : Optional.of(c::exec);
    }

    @Override
    public void post(Runnable action) {
        mailbox.accept(new RunnerCommand.TimerFired(number, action));
    }

    @Override
    public void event(String type, String detail) {
        events.accept(type, detail);
    }

    @Override
    public CompletableFuture<Void> seed(Path seed, String action) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        mailbox.accept(new RunnerCommand.Seed(seed, action, done));
        return done;
    }

    /** The run is being deleted: it ends without its end being recorded. */
    void destroy() {
        destroying = true;
        stopRequested = true;
        endReason = "destroyed";
    }

    void cancelTimers() {
        timers.forEach(Clock.Timer::cancel);
    }

    /** The guest conversation is over, with the workload's end as the guest reported it (empty: none). */
    void conversationEnded(Optional<RunEnd> end) {
        conversationEnded = true;
        workloadEnd = end.map(this::classify);
    }

    /**
     * Whether both the guest conversation is over and the VMM has exited (and a suspend under way has reported how
     * its save went).
     */
    boolean over() {
        return conversationEnded && vmmExited && (suspend == null || saveReported);
    }

    /** How the run ended: as the guest reported, or as the VMM's going without a report says. */
    RunEnd end() {
        if (checkFailure != null && !stopRequested) return RunEnd.failed(RunEnd.Reason.CHECK_FAILED, checkFailure);
        return workloadEnd.orElseGet(this::vmmGone);
    }

    /** A workload's exit as the run saw it: stopped by request, killed for want of memory, or its own. */
    private RunEnd classify(RunEnd end) {
        if (end.reason() != RunEnd.Reason.EXITED) return end;
        int status = end.exitCode().orElseThrow();
        if (stopRequested) return RunEnd.exited(RunEnd.Reason.STOPPED_BY_REQUEST, status);
        if (status == 128 + SIGKILL && consoleShowsOom()) return RunEnd.exited(RunEnd.Reason.OOM, status);
        return end;
    }

    /** Why a VMM went without the guest reporting the workload's end. */
    private RunEnd vmmGone() {
        if (endReason != null && stopRequested) return RunEnd.stoppedByRequest();
        if (endReason != null && !started) return RunEnd.failed(RunEnd.Reason.BOOT_TIMEOUT, endReason);
        if (endReason != null) return RunEnd.failed(RunEnd.Reason.VMM_CRASHED, endReason);
        String console = consoleTail();
        Optional<String> panic = console.lines().filter(line -> line.contains("Kernel panic")).findFirst();
        if (panic.isPresent()) {
            return RunEnd.failed(RunEnd.Reason.KERNEL_PANIC, "machine " + machineId + ": the guest kernel panicked: "
                    + panic.get().replaceFirst("^.*Kernel panic - ", "").strip());
        }
        String diagnostics = process.diagnostics(2000).strip();
        RunEnd.Reason why = showsOom(console) ? RunEnd.Reason.OOM : RunEnd.Reason.VMM_CRASHED;
        return RunEnd.failed(why, "machine " + machineId + ": the VMM exited unexpectedly: " + diagnostics);
    }

    /** Whether the guest kernel's console reports an out-of-memory kill. */
    private boolean consoleShowsOom() {
        return showsOom(consoleTail());
    }

    private static boolean showsOom(String console) {
        return console.contains("Out of memory") || console.contains("oom-kill");
    }

    /** The last 64 KiB of the guest's console ("" when it cannot be read). */
    private String consoleTail() {
        Path console = machineDir.resolve(LogStore.CONSOLE_FILE);
        try (InputStream in = Files.newInputStream(console)) {
            in.skipNBytes(Math.max(0, Files.size(console) - 64 * 1024));
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
