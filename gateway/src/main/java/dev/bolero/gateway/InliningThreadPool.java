package dev.bolero.gateway;

import org.eclipse.jetty.server.internal.HttpConnection;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The gateway's thread pool (its selectors, both listeners' and the machines' client's, and whatever work Jetty hands
 * off), which runs an HTTP/1 connection's resumption on the calling thread instead of handing it to another one.
 *
 * <p>Jetty's HTTP/1 server connection, when a request completes on a thread other than the one that parsed it — for a
 * proxy, always: the response completes on the thread that read the machine's answer — submits itself to the pool to
 * look for the client's next request. On a small host that hand-off (waking a parked thread, which then registers
 * read interest with the selector, waking that too) cost about as much CPU as proxying the request itself. Nothing on
 * that path blocks ({@link GatewayHandler} is non-blocking, and so is the machines' client), so the thread that
 * completed the response reads the next request itself, as nginx's event loop does.
 */
final class InliningThreadPool extends QueuedThreadPool {
    InliningThreadPool(int maxThreads, int minThreads) {
        super(maxThreads, minThreads);
    }

    @Override
    public void execute(Runnable job) {
        if (job instanceof HttpConnection connection) {
            connection.run();
            return;
        }
        super.execute(job);
    }
}
