package dev.bolero.network;

import java.util.regex.Pattern;

/** IPv4 addresses as {@code int}s and CIDR blocks: the little arithmetic allocation needs. */
final class Ipv4 {
    private static final Pattern DOTTED = Pattern.compile("(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})\\.(\\d{1,3})");

    private Ipv4() {}

    /** Parses a dotted quad; throws {@link IllegalArgumentException} naming {@code what} otherwise. */
    static int parse(String text, String what) {
        var m = DOTTED.matcher(text == null ? "" : text);
        if (!m.matches()) throw new IllegalArgumentException(what + " is not an IPv4 address: " + text);
        int value = 0;
        for (int i = 1; i <= 4; i++) {
            int octet = Integer.parseInt(m.group(i));
            if (octet > 255) throw new IllegalArgumentException(what + " is not an IPv4 address: " + text);
            value = (value << 8) | octet;
        }
        return value;
    }

    static String format(int address) {
        return (address >>> 24) + "." + ((address >>> 16) & 0xff) + "." + ((address >>> 8) & 0xff) + "." + (address & 0xff);
    }

    /** A locally administered unicast MAC derived from an address: {@code 02:b0:} and the four octets. */
    static String mac(int address) {
        return "02:b0:%02x:%02x:%02x:%02x".formatted(
                address >>> 24, (address >>> 16) & 0xff, (address >>> 8) & 0xff, address & 0xff);
    }

    /** A block of addresses {@code network/prefix} whose host bits are zero. */
    record Cidr(int network, int prefix) {
        Cidr {
            if (prefix < 0 || prefix > 32) throw new IllegalArgumentException("prefix out of range: " + prefix);
            if ((network & ~mask(prefix)) != 0) {
                throw new IllegalArgumentException("host bits set in " + format(network) + "/" + prefix);
            }
        }

        static Cidr parse(String text, String what) {
            int slash = text == null ? -1 : text.indexOf('/');
            if (slash < 0) throw new IllegalArgumentException(what + " is not a CIDR block: " + text);
            int prefix;
            try {
                prefix = Integer.parseInt(text.substring(slash + 1));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(what + " is not a CIDR block: " + text, e);
            }
            try {
                return new Cidr(Ipv4.parse(text.substring(0, slash), what), prefix);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(what + " is not a CIDR block: " + text + " (" + e.getMessage() + ")", e);
            }
        }

        static int mask(int prefix) {
            return prefix == 0 ? 0 : -1 << (32 - prefix);
        }

        long size() {
            return 1L << (32 - prefix);
        }

        boolean contains(int address) {
            return (address & mask(prefix)) == network;
        }

        /** The {@code index}-th block of length {@code childPrefix} inside this one. */
        Cidr child(int index, int childPrefix) {
            return new Cidr(network + (int) ((long) index << (32 - childPrefix)), childPrefix);
        }

        /** The address {@code offset} from the network address. */
        int host(int offset) {
            return network + offset;
        }

        @Override
        public String toString() {
            return format(network) + "/" + prefix;
        }
    }
}
