package dev.bolero.gateway;

import io.netty.handler.codec.http.HttpRequest;
import java.util.ArrayList;
import java.util.List;

/**
 * One client request on its way through the gateway: the head it is forwarded with, its route, its request id, the
 * machines it has tried and the one it holds now. {@link #finish} releases the held machine exactly once, when the
 * answer to the client ended or failed, marked failed when the machine was the reason.
 */
final class Exchange {
    /** The request as the machine gets it: HTTP/1.1, hop-by-hop headers dropped, forwarding headers set. */
    final HttpRequest head;
    final String host;
    final String requestId;
    /** Idempotent and without a body: sending it again to another machine is safe and possible. */
    final boolean replayable;
    /** An HTTP/1.1 protocol upgrade (WebSocket): passed through as a tunnel once the machine switches. */
    final boolean upgrade;
    Route route;
    private Lease lease;
    private boolean machineFailed;
    private List<String> tried = List.of();
    /** {@link System#nanoTime()} until which a woken machine may still be starting its workload; 0 if not woken. */
    private long wokenUntil;

    Exchange(HttpRequest head, String host, String requestId, boolean replayable, boolean upgrade, Route route) {
        this.head = head;
        this.host = host;
        this.requestId = requestId;
        this.replayable = replayable;
        this.upgrade = upgrade;
        this.route = route;
    }

    Lease lease() {
        return lease;
    }

    void hold(Lease lease) {
        this.lease = lease;
        this.machineFailed = false;
    }

    List<String> tried() {
        return tried;
    }

    /** Gives back the machine held now as failed, remembering not to try it again. */
    void abandonFailedMachine() {
        var next = new ArrayList<String>(tried.size() + 1);
        next.addAll(tried);
        next.add(lease.backend.machineId());
        tried = List.copyOf(next);
        lease.release(true);
    }

    /**
     * This exchange waited for a machine to wake: until {@code deadline} (nanoTime), a machine that refuses it is
     * taken to be still starting its workload rather than failing.
     */
    void woken(long deadline) {
        wokenUntil = deadline;
    }

    /** Whether a refusal now means a woken machine is still starting (see {@link #woken}). */
    boolean waking(long now) {
        return wokenUntil != 0 && now - wokenUntil < 0;
    }

    /** The wake deadline given to {@link #woken}. */
    long wakeDeadline() {
        return wokenUntil;
    }

    /** Gives back the machine held now, not counted as failed: it was still starting (see {@link #woken}). */
    void releaseStartingMachine() {
        lease.release(false);
    }

    /** The machine held now is why this exchange fails (it could not be reached or dropped the exchange). */
    void machineFailed() {
        machineFailed = true;
    }

    /** Releases the machine held now, if any, as failed when {@link #machineFailed} said so; later calls do nothing. */
    void finish() {
        if (lease != null) lease.release(machineFailed);
    }
}
