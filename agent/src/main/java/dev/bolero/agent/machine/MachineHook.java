package dev.bolero.agent.machine;

import dev.bolero.core.MachineSpec;
import dev.bolero.oci.OciException;
import dev.bolero.api.ExecRequest;
import dev.bolero.api.ExecResult;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * One concern of a machine's life that its {@link MachineRunner} calls at fixed points, in the order the hooks are
 * listed: the image ({@link ImageHook}), the network ({@link NetworkHook}), the volumes ({@link VolumeHook}), the boot
 * deadline ({@link BootWatchdog}). Health checks and secrets plug in the same way (a check starts at {@link #started}
 * and ends at {@link #ended}; a secret is added to the workload at {@link #prepare}). A volume is added to the VM at
 * {@link #prepare}; which machine may use it is the control plane's decision, not the node's. The restart decision after a run is
 * {@link RestartPolicy}'s.
 *
 * <p>Every method but {@link #created} and {@link #prepare} runs on the runner's mailbox, in order with the machine's
 * commands, and must not block.
 */
interface MachineHook {

    /**
     * A machine is being created (before it is stored): claim what it keeps for its whole life. Undone by
     * {@link #deleted}, also when a later hook or the store refuses the machine.
     *
     * @throws dev.bolero.api.ApiException when the machine cannot be created (e.g. {@code conflict})
     */
    default void created(MachineRecord machine) {}

    /**
     * A run is being prepared, off the mailbox (it may block): add to {@code launch} what the VM and its guest need.
     * Also called to rebuild the guest's config for a re-adopted VM whose guest asks for it again.
     *
     * @throws OciException when the image cannot be had
     * @throws dev.bolero.api.ApiException {@code failed_precondition} when the machine's config cannot run
     */
    default void prepare(Launch launch) throws OciException {}

    /**
     * Every hook's {@link #prepare} of a run of machine {@code machineId} is done after {@code took}: all of them
     * {@code succeeded}, or one threw. Off the mailbox; must not block.
     */
    default void prepared(String machineId, Duration took, boolean succeeded) {}

    /** The VMM runs (fresh or re-adopted); its guest may still be booting. */
    default void spawned(Run run) {}

    /** The guest started the workload. */
    default void started(Run run) {}

    /** The run ended with {@code end}; its timers are cancelled. Called before the restart decision. */
    default void ended(Run run, RunEnd end) {}

    /** The machine is deleted (or its creation is undone): release what {@link #created} claimed. Must not throw. */
    default void deleted(String machineId) {}

    /** What a hook may see of, and do to, a run. Used on the runner's mailbox only. */
    interface Run {
        String machineId();

        MachineSpec config();

        /** Whether the guest started the workload (a re-adopted running machine has). */
        boolean started();

        /** Whether this run booted its guest (rather than resuming a saved state or re-adopting a running VMM). */
        boolean booted();

        /** Whether the run is being stopped or destroyed. */
        boolean stopRequested();

        /** Runs {@code action} on the mailbox after {@code delay} unless the run has ended by then. */
        void schedule(Duration delay, Runnable action);

        /** Powers the VM off (the VMM gets a grace period, then is killed); {@code reason} becomes the end's detail. */
        void powerOff(String reason);

        /**
         * Powers the VM off because a health check keeps failing: the run ends {@code failed} with reason
         * {@code check failed} and {@code reason} as its detail, and is restarted within the restart policy's
         * {@code max_retries}, whatever its policy ({@code restart.on_check_failure}).
         */
        void failCheck(String reason);

        /** The VMM's process id (the run has spawned it). */
        long vmmPid();

        /** The machine's address on its namespace's network, if it has one. */
        Optional<String> address();

        /** The guest's command runner while the guest converses with the node (exec checks run through it). */
        Optional<GuestCommands> guest();

        /** Runs {@code action} on the mailbox as soon as it can, unless the run has ended. Thread-safe. */
        void post(Runnable action);

        /** Records an event of the machine ({@code check_passing}, …) with {@code detail}. Thread-safe. */
        void event(String type, String detail);

        /**
         * Saves the running VM's state into the new directory {@code seed} for new machines to start from; the VM is
         * paused meanwhile and runs on. The result completes (on another thread) once the seed is complete, or fails
         * with an {@link dev.bolero.api.ApiException} whose message begins with {@code action}.
         */
        java.util.concurrent.CompletableFuture<Void> seed(Path seed, String action);
    }

    /** Runs a command in the guest beside the workload; may be called off the mailbox (it blocks). */
    @FunctionalInterface
    interface GuestCommands {
        ExecResult exec(ExecRequest request) throws InterruptedException;
    }
}
