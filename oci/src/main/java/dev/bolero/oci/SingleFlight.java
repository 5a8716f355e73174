package dev.bolero.oci;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;

/** Runs at most one action per key at a time; concurrent callers for the key share its result or its failure. */
final class SingleFlight<K> {
    private final Map<K, CompletableFuture<Path>> inFlight = new ConcurrentHashMap<>();

    @FunctionalInterface
    interface Action {
        Path run() throws PullException;
    }

    Path run(K key, Action action) throws PullException {
        CompletableFuture<Path> mine = new CompletableFuture<>();
        CompletableFuture<Path> running = inFlight.putIfAbsent(key, mine);
        if (running != null) {
            try {
                return running.join();
            } catch (CompletionException e) {
                if (e.getCause() instanceof PullException p) {
                    throw new PullException(p.getMessage(), p);
                }
                throw e;
            }
        }
        try {
            Path result = action.run();
            mine.complete(result);
            return result;
        } catch (PullException | RuntimeException | Error e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            inFlight.remove(key, mine);
        }
    }
}
