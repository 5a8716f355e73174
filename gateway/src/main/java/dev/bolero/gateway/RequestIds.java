package dev.bolero.gateway;

import java.util.concurrent.ThreadLocalRandom;

/**
 * The {@code X-Request-Id} of a request: the client's when it sent a plausible one (1 to 128 characters of
 * {@code [A-Za-z0-9._:-]}), otherwise 16 random hex digits.
 */
final class RequestIds {
    static final String HEADER = "X-Request-Id";
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private RequestIds() {}

    static String keepOrCreate(String sent) {
        return valid(sent) ? sent : create();
    }

    static boolean valid(String id) {
        if (id == null || id.isEmpty() || id.length() > 128) {
            return false;
        }
        for (int i = 0; i < id.length(); i++) {
            char c = id.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '.' || c == '_' || c == ':' || c == '-';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    static String create() {
        long bits = ThreadLocalRandom.current().nextLong();
        char[] out = new char[16];
        for (int i = 15; i >= 0; i--) {
            out[i] = HEX[(int) (bits & 0xf)];
            bits >>>= 4;
        }
        return new String(out);
    }
}
