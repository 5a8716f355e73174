package dev.bolero.network;

import java.util.List;
import java.util.regex.Pattern;

/** Facts about the host's own addresses that a node's network config is derived from. */
public final class HostAddresses {
    private static final Pattern DEV = Pattern.compile("\\bdev (\\S+)");
    private static final Pattern INET = Pattern.compile("\\binet (\\d+\\.\\d+\\.\\d+\\.\\d+)/");

    private HostAddresses() {}

    /**
     * The first IPv4 address of the interface the default route leaves through: where clients reach a node by
     * default, hence the default publish address.
     *
     * @throws NetworkException HOST if there is no IPv4 default route, its interface has no IPv4 address, or
     *     {@code ip} fails
     */
    public static String defaultRouteAddress() throws NetworkException {
        var host = new HostCommands(List.of());
        var action = "find the default route's address";
        var route = host.run(action, null, "ip", "-4", "route", "show", "default");
        var dev = DEV.matcher(route);
        if (!dev.find()) throw new NetworkException(NetworkException.Kind.HOST, action + ": no IPv4 default route");
        var addresses = host.run(action, null, "ip", "-4", "-o", "addr", "show", "dev", dev.group(1));
        var inet = INET.matcher(addresses);
        if (!inet.find()) {
            throw new NetworkException(NetworkException.Kind.HOST, action + ": " + dev.group(1) + " has no IPv4 address");
        }
        return inet.group(1);
    }
}
