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
