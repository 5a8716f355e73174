package dev.bolero.runtime.guest;

import java.io.ByteArrayOutputStream;
import java.util.HexFormat;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What makes a VM resumed from another's snapshot (a fork's clone) its own machine: the guest is sent it in an
 * IDENTITY frame right after the resume, and takes the hostname, re-addresses {@code eth0} (MAC, address, default
 * route), writes {@code /etc/machine-id} and credits {@code entropy} to its kernel RNG, which it reseeds.
 *
 * @param mac {@code eth0}'s new MAC ({@code 52:54:00:…}), empty without a network
 * @param ip {@code eth0}'s new address with its prefix ({@code 10.210.0.7/24}), empty without a network
 * @param gateway the default route's gateway, empty for none
 * @param machineId 32 lowercase hex digits, as in {@code /etc/machine-id}
 * @param entropy fresh random bytes from the host (16 to 256)
 */
public record GuestIdentity(String hostname, Optional<String> mac, Optional<String> ip, Optional<String> gateway,
        String machineId, byte[] entropy) {
    private static final Pattern MAC = Pattern.compile("(?:[0-9a-f]{2}:){5}[0-9a-f]{2}");
    private static final Pattern MACHINE_ID = Pattern.compile("[0-9a-f]{32}");

    public GuestIdentity {
        Objects.requireNonNull(hostname, "hostname");
        Objects.requireNonNull(mac, "mac");
        Objects.requireNonNull(ip, "ip");
        Objects.requireNonNull(gateway, "gateway");
        if (mac.isPresent() && !MAC.matcher(mac.get()).matches()) throw new IllegalArgumentException("bad mac " + mac);
        if (!MACHINE_ID.matcher(machineId).matches()) throw new IllegalArgumentException("bad machine id " + machineId);
        if (entropy.length < 16 || entropy.length > 256) {
            throw new IllegalArgumentException("entropy of " + entropy.length + " bytes, not 16 to 256");
        }
        entropy = entropy.clone();
    }

    /** A copy of the entropy. */
    @Override
    public byte[] entropy() {
        return entropy.clone();
    }

    /** The IDENTITY payload: {@code key\0value\0} pairs, the entropy in hex. */
    byte[] encode() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        FrameCodec.pair(out, "hostname", hostname);
        mac.ifPresent(m -> FrameCodec.pair(out, "mac", m));
        ip.ifPresent(a -> FrameCodec.pair(out, "ip", a));
        gateway.ifPresent(g -> FrameCodec.pair(out, "gateway", g));
        FrameCodec.pair(out, "machine_id", machineId);
        FrameCodec.pair(out, "entropy", HexFormat.of().formatHex(entropy));
        return out.toByteArray();
    }
}
