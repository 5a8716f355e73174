package dev.bolero.runtime;

import java.io.IOException;
import java.nio.channels.ByteChannel;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** A running VMM process, started or recovered by a {@link VmmDriver}. Thread-safe. */
public interface VmProcess {

    /** The persistable identity of this VMM. */
    VmHandle handle();

    /**
     * Connects to the guest's control channel (where {@code bolero-init} speaks the guest protocol). The channel
     * may be opened again after it closes; the guest tolerates reconnects.
     *
     * @throws IOException when the VMM's end of the channel cannot be reached
     */
    ByteChannel openControl() throws IOException;

    /** Completes when the VMM process has exited, with its exit status when known (a re-adopted VMM: unknown). */
    CompletableFuture<VmExit> exit();

    /**
     * Asks the VMM to power the VM off, and kills it if it has not exited within {@code grace}. Returns when the
     * process is gone. Idempotent.
     */
    void stop(Duration grace);

    /**
     * Suspends the VM: pauses it, saves its memory and device state into the machine's {@link Snapshot} (private
     * files in its work directory), ends the VMM and seals the snapshot with what it depends on. Returns when the VMM
     * is gone and the snapshot complete; {@link VmmDriver#resume} continues the VM from it.
     *
     * @param dependencies what the caller's side of the machine depends on (its config, …), recorded in the manifest
     *     and compared again by {@link VmmDriver#snapshotUnusable}
     * @throws VmmException naming the failed step when the state cannot be saved: no snapshot is left then, and the
     *     VM runs on when its VMM still can (else the VMM is gone)
     */
    default void suspend(java.util.Map<String, String> dependencies) throws VmmException {
        throw new VmmException("suspend pid " + handle().pid() + ": the " + handle().driver()
                + " driver cannot save a VM's state here");
    }

    /**
     * Saves the running VM for new machines to start from (a fork's clones): pauses it, writes its memory and device
     * state and a frozen copy of its root drive into {@code seed} (a new directory; see {@link Snapshot#sealSeed}),
     * and continues it. The VM runs on as before; {@link VmmDriver#plant} makes a new machine's snapshot from the
     * seed.
     *
     * @throws VmmException naming the failed step when the state cannot be saved: the VM is continued (when its VMM
     *     still runs) and the caller removes {@code seed}
     */
    default void seed(java.nio.file.Path seed) throws VmmException {
        throw new VmmException("fork pid " + handle().pid() + ": the " + handle().driver()
                + " driver cannot save a running VM's state here");
    }

    /**
     * Makes the running VM see its drive {@code drive} (the index in {@link VmSpec#drives()}) at {@code bytes}, the
     * size the drive's file grew to: the guest's block device grows at once (its file system does not: that is the
     * guest's to grow).
     *
     * @throws VmmException naming the drive when the VMM cannot or did not
     */
    default void resizeDrive(int drive, long bytes) throws VmmException {
        throw new VmmException("resize drive " + drive + " of pid " + handle().pid() + ": the " + handle().driver()
                + " driver cannot resize a running VM's drive");
    }

    /** Kills the VMM at once and waits for it to be gone. Idempotent. */
    void kill();

    /** Whether the VMM process is alive. */
    boolean isAlive();

    /**
     * The VMM's own diagnostics (its stderr), for error messages: the last lines, at most {@code maxBytes}.
     */
    String diagnostics(int maxBytes);

    /** How a VMM process ended: its exit status when it was our child, empty otherwise. */
    record VmExit(java.util.OptionalInt status) {}
}
