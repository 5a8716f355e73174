package dev.bolero.gateway;

import java.util.ArrayList;
import java.util.List;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;

/**
 * One client request on its way through the gateway: its route, its request id, the machines it has tried and the
 * one it holds now. It is the callback Jetty's proxy completes, so the held machine is released exactly when the
 * response to the client ends, marked failed when the machine was the reason.
 */
final class Exchange implements Callback {
    final Request request;
    final Response response;
    final Callback client;
    final String host;
    final String requestId;
    final boolean secure;
    Route route;
    private Lease lease;
    private boolean machineFailed;
    private List<String> tried = List.of();
    /** {@link System#nanoTime()} until which a woken machine may still be starting its workload; 0 if not woken. */
    private long wokenUntil;

    Exchange(Request request, Response response, Callback client, String host, String requestId, Route route) {
        this.request = request;
        this.response = response;
        this.client = client;
        this.host = host;
        this.requestId = requestId;
        this.secure = request.isSecure();
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

    @Override
    public void succeeded() {
        lease.release(machineFailed);
        client.succeeded();
    }

    @Override
    public void failed(Throwable failure) {
        lease.release(machineFailed);
        client.failed(failure);
    }

    @Override
    public InvocationType getInvocationType() {
        return client.getInvocationType();
    }
}
