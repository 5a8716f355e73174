package dev.bolero.agent.machine;

import dev.bolero.core.MachineSpec;
import dev.bolero.runtime.VmProcess;
import dev.bolero.runtime.guest.GuestConfig;
import dev.bolero.runtime.guest.GuestIdentity;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * What a {@link MachineRunner} handles, one at a time in the order they arrive: requests (with a reply), and what its
 * own run reports (prepare and spawn results, guest events, the VMM's exit, timers). A run's reports carry the run's
 * number: those of an earlier run are dropped.
 */
sealed interface RunnerCommand {

    /** A command whose outcome is awaited by its sender. */
    sealed interface Request<T> extends RunnerCommand {
        CompletableFuture<T> reply();
    }

    // --- requests ---

    /** Start a created, stopped or failed machine (and cancel a pending restart). */
    record Start(CompletableFuture<MachineRecord> reply) implements Request<MachineRecord> {}

    /** Stop a starting or running machine, or cancel its pending restart. */
    record Stop(MachineSpec.Stop request, CompletableFuture<MachineRecord> reply) implements Request<MachineRecord> {}

    /**
     * Suspend a running machine: save its memory and device state and end its VMM; completes once it is
     * {@code suspended}.
     */
    record Suspend(CompletableFuture<MachineRecord> reply) implements Request<MachineRecord> {}

    /**
     * Save the running VM's state into the new directory {@code seed}, for new machines to start from (a fork's clones,
     * a template); the VM runs on. Completes once the seed is complete; fails with an error that begins with
     * {@code action} ({@code "fork machine ID"}).
     */
    record Seed(java.nio.file.Path seed, String action, CompletableFuture<Void> reply) implements Request<Void> {}

    /**
     * Volume {@code volume} (of serial {@code serial}), mounted by the machine, grew to {@code bytes}: a running VM's
     * drive is resized and its guest grows the file system; otherwise nothing (the guest grows it at its next mount).
     */
    record VolumeGrown(String volume, String serial, long bytes, CompletableFuture<Void> reply)
            implements Request<Void> {}

    /**
     * Freeze ({@code freeze}) or thaw the file system of volume {@code volume} (of serial {@code serial}) in the
     * running VM that mounts it; completes with whether it did (false: the machine does not run, nothing to do).
     */
    record FreezeVolume(String volume, String serial, boolean freeze, CompletableFuture<Boolean> reply)
            implements Request<Boolean> {}

    /** The running machine's guest conversation, for an exec call made on the caller's thread. */
    record Exec(CompletableFuture<Conversation> reply) implements Request<Conversation> {}

    /** Delete the machine; completes once its VMM is gone and its row, network and files are. */
    record Delete(boolean force, CompletableFuture<Void> reply) implements Request<Void> {}

    /** Agent start: supervise the VMM a previous agent started for this machine. */
    record Adopt(VmProcess process, CompletableFuture<Void> reply) implements Request<Void> {}

    /** Agent start: the machine's VMM is gone; record {@code end} and apply the restart policy. */
    record Lost(RunEnd end, CompletableFuture<Void> reply) implements Request<Void> {}

    /** Agent start: the previous agent was waiting out a restart backoff; wait again. */
    record ResumeRestart(CompletableFuture<Void> reply) implements Request<Void> {}

    /** Agent shutdown: let go of the machine without touching its VMM. */
    record Detach(CompletableFuture<Void> reply) implements Request<Void> {}

    // --- what the machine's run reports ---

    /** The run's launch is prepared (image pulled, network known). */
    record Prepared(int run, Launch launch) implements RunnerCommand {}

    /**
     * The run's VMM runs: booted, or {@code resumed} from the machine's snapshot; {@code identity}: the snapshot was
     * another VM's (a fork's clone, a template), whose guest takes this identity.
     *
     * @param discarded why the machine's snapshot was not used (it was discarded and the VM booted), if it had one
     * @param template the template the machine's snapshot was planted from, if it was
     */
    record Spawned(int run, VmProcess process, GuestConfig config, boolean resumed, Optional<String> discarded,
            Optional<GuestIdentity> identity, Optional<TemplateStore.Template> template) implements RunnerCommand {}

    /** The run's VMM saved the VM's state and is gone ({@code failure} empty), or could not ({@code failure}). */
    record Saved(int run, Optional<String> failure) implements RunnerCommand {}

    /** The run could not get as far as a VMM. */
    record StartFailed(int run, RunEnd end) implements RunnerCommand {}

    /** The guest started the workload. */
    record GuestStarted(int run) implements RunnerCommand {}

    /** The guest conversation is over: with the workload's end, or empty when the VMM went without one. */
    record ConversationEnded(int run, Optional<RunEnd> end) implements RunnerCommand {}

    /** The run's VMM process exited. */
    record VmmExited(int run) implements RunnerCommand {}

    /** A timer of the run (a hook's, or the wait for the VMM's exit) fired, or a hook posted work for the run. */
    record TimerFired(int run, Runnable action) implements RunnerCommand {}

    /** The backoff of restart number {@code attempt} is over ({@code token} tells it from a cancelled one). */
    record RestartDue(int token, int attempt) implements RunnerCommand {}
}
