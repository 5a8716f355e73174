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
