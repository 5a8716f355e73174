package dev.bolero.runtime.guest;

import java.nio.charset.StandardCharsets;
import java.util.Objects;

/** What {@code bolero-init} reports to the host, one event per frame. */
public sealed interface GuestEvent {

    /** Init is up and waits for its configuration; may repeat until it has it. */
    record Hello(String version) implements GuestEvent {
        public Hello {
            Objects.requireNonNull(version, "version");
        }
    }

    /** The workload was exec'd as process {@code pid} (in the guest). */
    record Started(int pid) implements GuestEvent {}

    /** A chunk of the workload's output on one stream; not line-aligned. The array is not copied. */
    record Output(Stream stream, byte[] data) implements GuestEvent {
        public Output {
            Objects.requireNonNull(stream, "stream");
            Objects.requireNonNull(data, "data");
        }

        /** The chunk decoded as UTF-8 (a multi-byte character may be split across chunks). */
        public String text() {
            return new String(data, StandardCharsets.UTF_8);
        }
    }

    /** The workload ended with exit code {@code status}, or 128+N when signal N killed it; no output follows. */
    record Exited(int status) implements GuestEvent {}

    /** Init could not run the workload; {@code message} names the failed action. */
    record Failed(String message) implements GuestEvent {
        public Failed {
            Objects.requireNonNull(message, "message");
        }
    }

    /** What the guest reports about one command started with {@link GuestSession#exec}; {@code execId} names it. */
    sealed interface ExecEvent extends GuestEvent {
        int execId();
    }

    /** The command runs as process {@code pid} (in the guest). */
    record ExecStarted(int execId, int pid) implements ExecEvent {}

    /** A chunk of the command's output; not line-aligned. The array is not copied. */
    record ExecOutput(int execId, Stream stream, byte[] data) implements ExecEvent {
        public ExecOutput {
            Objects.requireNonNull(stream, "stream");
            Objects.requireNonNull(data, "data");
        }
    }

    /** The command ended with exit code {@code status}, or 128+N when signal N killed it; no output follows. */
    record ExecExited(int execId, int status) implements ExecEvent {}

    /** The command could not be run; {@code message} names the failed action. Nothing follows. */
    record ExecFailed(int execId, String message) implements ExecEvent {
        public ExecFailed {
            Objects.requireNonNull(message, "message");
        }
    }

    /**
     * The answer to {@link GuestSession#freeze} request {@code requestId}: {@code errno} 0 when the volume's file
     * system is frozen (or thawed), else the guest's error number.
     */
    record VolumeFrozen(int requestId, int errno) implements GuestEvent {}

    /** The workload's output streams. */
    enum Stream {
        STDOUT,
        STDERR
    }
}
