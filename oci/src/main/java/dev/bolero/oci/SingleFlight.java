package dev.bolero.oci;

import java.io.IOException;
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
        Path run() throws PullException, IOException;
    }

    Path run(K key, Action action) throws PullException, IOException {
        CompletableFuture<Path> mine = new CompletableFuture<>();
        CompletableFuture<Path> running = inFlight.putIfAbsent(key, mine);
        if (running != null) {
            try {
                return running.join();
            } catch (CompletionException e) {
                switch (e.getCause()) {
                    case PullException p -> throw new PullException(p.getMessage(), p);
                    case IOException io -> throw new IOException(io.getMessage(), io);
                    default -> { }
                }
                throw e;
            }
        }
        try {
            Path result = action.run();
            mine.complete(result);
            return result;
        } catch (PullException | IOException | RuntimeException | Error e) {
            mine.completeExceptionally(e);
            throw e;
        } finally {
            inFlight.remove(key, mine);
        }
    }
}
