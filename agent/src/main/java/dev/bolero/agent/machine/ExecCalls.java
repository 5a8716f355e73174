package dev.bolero.agent.machine;

import dev.bolero.api.ExecResult;
import dev.bolero.runtime.guest.GuestEvent;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The exec calls of one machine in flight: output collected per call (at most {@value #MAX_OUTPUT} bytes a stream;
 * the rest is dropped), or handed to the caller as it arrives, until the guest reports the end. Thread-safe: the
 * supervisor's reader thread delivers events, request threads wait.
 *
 * <p>Flow control: a command's output comes only as far as the host granted credit (EXEC_CREDIT), {@value #WINDOW}
 * bytes at first ({@link Call#window()}). Collected output is granted again as it arrives (what is kept is capped);
 * output handed to a caller is granted again only once the caller says the chunk is gone, so a slow reader holds the
 * command back (in the guest's pipe) instead of filling the agent's memory or stalling the machine's reader thread.
 */
final class ExecCalls {
    static final int MAX_OUTPUT = 4 * 1024 * 1024;
    /** Output bytes of one command in flight between the guest and the caller at most. */
    static final int WINDOW = 256 * 1024;
    /** Consumed output is granted again in batches of this many bytes (or more). */
    static final int GRANT_BATCH = WINDOW / 4;

    /** Sends the guest more credit for a call's output; must not block for long, and must not throw. */
    interface Grant {
        void grant(int execId, int bytes);
    }

    /** Where a streamed call's output goes: {@code consumed} is to be run once {@code data} left (or was dropped). */
    interface Output {
        void accept(GuestEvent.Stream stream, byte[] data, Runnable consumed);
    }

    /**
     * Ids start at a random point: after an agent restart the guest may resend frames of an earlier agent's exec it
     * had not yet seen confirmed, and those must not be taken for a new call's.
     */
    private final AtomicInteger nextId =
            new AtomicInteger(1 + ThreadLocalRandom.current().nextInt(Integer.MAX_VALUE - 1));
    private final Map<Integer, Call> calls = new ConcurrentHashMap<>();

    /** How a call ended: an exit status, or the guest's reason it could not run the command. */
    sealed interface End {
        record Exited(int status) implements End {}

        record Failed(String message) implements End {}
    }

    /** One command in flight. */
    static final class Call {
        final int id;
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        private final ByteArrayOutputStream err = new ByteArrayOutputStream();
        private boolean truncated;
        private final CompletableFuture<End> end = new CompletableFuture<>();
        /** Where output goes as it arrives; null: collected. */
        private final Output output;
        private final Grant grant;
        /** Bytes consumed and not yet granted again: granted in batches of {@value #GRANT_BATCH}. */
        private final AtomicLong owed = new AtomicLong();

        private Call(int id, Grant grant, Output output) {
            this.id = id;
            this.grant = grant;
            this.output = output;
        }

        /** Grants the call its first {@value #WINDOW} bytes; after its EXEC. */
        void window() {
            grant.grant(id, WINDOW);
        }

        private synchronized void append(GuestEvent.Stream stream, byte[] data) {
            if (data.length == 0) return;
            if (output != null) {
                output.accept(stream, data, () -> consumed(data.length));
                return;
            }
            ByteArrayOutputStream buf = stream == GuestEvent.Stream.STDOUT ? out : err;
            int room = MAX_OUTPUT - buf.size();
            if (data.length > room) truncated = true;
            buf.write(data, 0, Math.max(0, Math.min(room, data.length)));
            consumed(data.length);
        }

        /**
         * Grants consumed bytes again once a batch is owed: fewer frames to the guest. Never stalls: while the guest
         * has no credit, the whole window is in flight or owed, and what is in flight becomes owed as it is consumed.
         */
        private void consumed(int bytes) {
            if (owed.addAndGet(bytes) < GRANT_BATCH) return;
            long batch = owed.getAndSet(0);
            if (batch > 0) grant.grant(id, (int) Math.min(batch, Integer.MAX_VALUE));
        }

        /**
         * Waits for the end.
         *
         * @throws TimeoutException when it has not ended within {@code timeout}
         */
        End await(Duration timeout) throws InterruptedException, TimeoutException {
            try {
                return end.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                throw new IllegalStateException(e.getCause());
            }
        }

        /** Completes with the end (after the last output). */
        CompletionStage<End> ended() {
            return end.copy();
        }

        synchronized ExecResult result(int status, boolean timedOut) {
            return new ExecResult(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8),
                    timedOut, truncated);
        }
    }

    /** A new call with a fresh id whose output is collected, registered before its EXEC is sent. */
    Call open(Grant grant) {
        return open(grant, null);
    }

    /** A new call whose output is handed to {@code output} (on the reader's thread, in order) instead of collected. */
    Call open(Grant grant, Output output) {
        Call c = new Call(nextId.getAndUpdate(i -> i == Integer.MAX_VALUE ? 1 : i + 1), grant, output);
        calls.put(c.id, c);
        return c;
    }

    /** Forgets a call (ended, or abandoned). */
    void close(Call c) {
        calls.remove(c.id, c);
    }

    /** Delivers a guest event; events of unknown calls (abandoned ones) are ignored. */
    void deliver(GuestEvent.ExecEvent event) {
        Call c = calls.get(event.execId());
        if (c == null) return;
        switch (event) {
            case GuestEvent.ExecStarted s -> { }
            case GuestEvent.ExecOutput o -> c.append(o.stream(), o.data());
            case GuestEvent.ExecExited x -> c.end.complete(new End.Exited(x.status()));
            case GuestEvent.ExecFailed f -> c.end.complete(new End.Failed(f.message()));
        }
    }

    /** Ends every call in flight with {@code message}: the control channel dropped, or the run ended. */
    void failAll(String message) {
        calls.values().forEach(c -> c.end.complete(new End.Failed(message)));
    }
}
