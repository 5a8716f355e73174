package dev.bolero.network;

import java.util.List;
import java.util.Objects;

/**
 * A machine's place on the node's network: the tap its VMM opens and what the guest configures on its interface
 * (bolero-init's {@code ip}, {@code gateway} and {@code dns} keys).
 *
 * @param tapName the tap device, already created, up and on its namespace's bridge
 * @param mac the MAC address the guest's interface must use: frames with any other source are dropped
 * @param ipCidr the guest's address with the subnet's prefix, e.g. {@code 10.210.3.5/24}
 * @param gateway the bridge's address, the guest's default route
 * @param dns name servers for the guest's resolv.conf: on the private network its gateway (the node's internal DNS),
 *     otherwise {@link NetworkConfig#dns()}
 * @param subnet the namespace's subnet, e.g. {@code 10.210.3.0/24}
 * @param search search domains for the guest's resolv.conf: {@code <namespace>.internal} on the private network (so
 *     {@code web} resolves to the namespace's fleet {@code web}), none otherwise
 */
public record Attachment(String tapName, String mac, String ipCidr, String gateway, List<String> dns, String subnet,
                         List<String> search) {

    public Attachment {
        Objects.requireNonNull(tapName, "tapName");
        Objects.requireNonNull(mac, "mac");
        Objects.requireNonNull(ipCidr, "ipCidr");
        Objects.requireNonNull(gateway, "gateway");
        Objects.requireNonNull(subnet, "subnet");
        dns = List.copyOf(dns);
        search = List.copyOf(search);
    }

    /** The guest's address without the prefix, as shown on the Machine object. */
    public String ip() {
        return ipCidr.substring(0, ipCidr.indexOf('/'));
    }
}
