package dev.bolero.api;

import java.util.Locale;

/**
 * Body of {@code POST /api/v1/machines/{id}/stop}: the signal for the workload and how long it gets before the VM
 * is powered off.
 *
 * @param signal a signal name ({@code SIGTERM}, {@code TERM}) or number; default SIGTERM
 * @param timeoutS seconds, 0 to 3600; default 10
 */
public record StopRequest(String signal, Integer timeoutS) {
    public static final int DEFAULT_TIMEOUT_S = 10;

    public StopRequest {
        if (timeoutS != null && (timeoutS < 0 || timeoutS > 3600)) {
            throw ApiException.invalid("timeout_s must be between 0 and 3600, got " + timeoutS);
        }
        if (signal != null) signalNumber(signal);
    }

    /** The default stop: SIGTERM, 10 s. */
    public static StopRequest defaults() {
        return new StopRequest(null, null);
    }

    /** This request with its absent fields taken from {@code defaults}. */
    public StopRequest orElse(StopRequest defaults) {
        return new StopRequest(signal != null ? signal : defaults.signal(),
                timeoutS != null ? timeoutS : defaults.timeoutS());
    }

    /** This request with the built-in defaults filled in (SIGTERM, 10 s). */
    public StopRequest filled() {
        return new StopRequest(signal != null ? signal : "SIGTERM", timeoutSeconds());
    }

    /** The signal's number on Linux x86-64. */
    public int signalNumber() {
        return signal == null ? 15 : signalNumber(signal);
    }

    /** The timeout in seconds. */
    public int timeoutSeconds() {
        return timeoutS == null ? DEFAULT_TIMEOUT_S : timeoutS;
    }

    static int signalNumber(String signal) {
        String s = signal.toUpperCase(Locale.ROOT);
        if (s.matches("[0-9]{1,2}")) {
            int n = Integer.parseInt(s);
            if (n >= 1 && n <= 64) return n;
        }
        String name = s.startsWith("SIG") ? s.substring(3) : s;
        return switch (name) {
            case "HUP" -> 1;
            case "INT" -> 2;
            case "QUIT" -> 3;
            case "KILL" -> 9;
            case "USR1" -> 10;
            case "USR2" -> 12;
            case "TERM" -> 15;
            case "WINCH" -> 28;
            default -> throw ApiException.invalid("unknown signal '" + signal + "'");
        };
    }
}
