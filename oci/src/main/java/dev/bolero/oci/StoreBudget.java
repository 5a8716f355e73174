package dev.bolero.oci;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes the image store may hold ({@link ImageLimits#storeBudgetBytes}) and the bytes it holds: counted on disk
 * when the store opens and after garbage collection, and claimed by pulls as they write. A write claims its bytes
 * before it makes them; a claim that would take the store over its budget fails, and a write that fails gives its
 * bytes back. Safe for concurrent use.
 */
final class StoreBudget {
    private final long limit;
    private final AtomicLong used = new AtomicLong();

    StoreBudget(long limitBytes) {
        if (limitBytes <= 0) {
            throw new IllegalArgumentException("a store budget must be positive, got " + limitBytes);
        }
        this.limit = limitBytes;
    }

    /** A budget nothing reaches: for stores whose disk is their only limit. */
    static StoreBudget unlimited() {
        return new StoreBudget(Long.MAX_VALUE);
    }

    /**
     * Starts counting the bytes of one write.
     *
     * @param what what is written, for the message of a failed claim: {@code blob sha256:…}, {@code the root drive}
     */
    Claim claim(String what) {
        return new Claim(what);
    }

    /** Sets the bytes in use to {@code bytes} counted on disk; only while nothing writes into the store. */
    void recount(long bytes) {
        used.set(bytes);
    }

    /** The bytes of one write, given back when it is closed unless {@link #keep kept}. Not thread-safe. */
    final class Claim implements AutoCloseable {
        private final String what;
        private long claimed;
        private boolean kept;

        private Claim(String what) {
            this.what = what;
        }

        /**
         * Claims {@code bytes} more.
         *
         * @throws PullIOException naming what is written and the budget if the store would go over it
         */
        void add(long bytes) throws PullIOException {
            long now;
            do {
                now = used.get();
                if (bytes > limit - now) {
                    throw new PullIOException(what + ": the image store's disk budget of " + limit + " bytes is used up ("
                            + now + " bytes in use, " + bytes + " more needed)");
                }
            } while (!used.compareAndSet(now, now + bytes));
            claimed += bytes;
        }

        /** The bytes claimed so far. */
        long claimed() {
            return claimed;
        }

        /** The write succeeded: its bytes stay counted. */
        void keep() {
            kept = true;
        }

        @Override
        public void close() {
            if (!kept) {
                used.addAndGet(-claimed);
                claimed = 0;
            }
        }
    }
}
