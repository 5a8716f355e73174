package dev.bolero.api.http;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SocketChannel;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.jetty.io.SelectorManager;
import org.eclipse.jetty.util.IO;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * At most {@code max} open connections from one client address across the connectors it is a bean of: a connection
 * beyond is closed as soon as it is accepted, before anything is read from it. Jetty's own limits
 * ({@code NetworkConnectionLimit}) count all clients together, so one client could take every slot.
 */
final class ClientConnectionLimit implements SelectorManager.AcceptListener {
    private static final Logger log = LoggerFactory.getLogger(ClientConnectionLimit.class);

    private final int max;
    /** The open connections counted, each with its client's address. */
    private final Map<SelectableChannel, InetAddress> counted = new ConcurrentHashMap<>();
    private final Map<InetAddress, Integer> perAddress = new ConcurrentHashMap<>();
    /** Addresses refused since they last held fewer than {@link #max}: logged once each time they reach it. */
    private final Set<InetAddress> refusing = ConcurrentHashMap.newKeySet();

    ClientConnectionLimit(int max) {
        this.max = max;
    }

    @Override
    public void onAccepting(SelectableChannel channel) {
        InetAddress address = address(channel);
        if (address == null) return;
        boolean[] admitted = {false};
        perAddress.compute(address, (a, n) -> {
            int held = n == null ? 0 : n;
            if (held >= max) return n;
            admitted[0] = true;
            return held + 1;
        });
        if (admitted[0]) {
            counted.put(channel, address);
            return;
        }
        if (refusing.add(address)) {
            log.warn("refusing connections from {}: it holds {} connections, the most one client address may "
                    + "(--max-connections-per-client)", address.getHostAddress(), max);
        }
        IO.close(channel);
    }

    @Override
    public void onAcceptFailed(SelectableChannel channel, Throwable cause) {
        release(channel);
    }

    @Override
    public void onClosed(SelectableChannel channel) {
        release(channel);
    }

    private void release(SelectableChannel channel) {
        InetAddress address = counted.remove(channel);
        if (address == null) return;
        perAddress.computeIfPresent(address, (a, n) -> n <= 1 ? null : n - 1);
        refusing.remove(address);
    }

    private static InetAddress address(SelectableChannel channel) {
        try {
            return channel instanceof SocketChannel s && s.getRemoteAddress() instanceof InetSocketAddress a
                    ? a.getAddress() : null;
        } catch (IOException e) {
            return null; // already closed: nothing to count
        }
    }
}
