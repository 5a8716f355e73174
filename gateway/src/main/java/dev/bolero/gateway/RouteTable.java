package dev.bolero.gateway;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The routes the gateway follows, replaced as a whole whenever the control plane's view changes. Whoever watches
 * the control plane (fleets, machines, checks, host names) calls {@link #replace}; requests read {@link #current()}
 * without locks, and a request waiting for a machine to wake waits on {@link #nextChange()}.
 */
public final class RouteTable {
    private volatile Routes current;
    private volatile CompletableFuture<Routes> next = new CompletableFuture<>();

    public RouteTable(Routes initial) {
        this.current = Objects.requireNonNull(initial, "initial");
    }

    public Routes current() {
        return current;
    }

    /** Makes {@code routes} the routes of every request from now on, and wakes whoever waits for a change. */
    public void replace(Routes routes) {
        Objects.requireNonNull(routes, "routes");
        CompletableFuture<Routes> waiting;
        synchronized (this) {
            current = routes;
            waiting = next;
            next = new CompletableFuture<>();
        }
        waiting.complete(routes);
    }

    /** Completes with the routes of the next {@link #replace}. */
    public CompletionStage<Routes> nextChange() {
        return next;
    }
}
