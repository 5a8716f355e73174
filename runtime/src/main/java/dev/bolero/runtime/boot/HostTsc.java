package dev.bolero.runtime.boot;

import java.util.OptionalLong;

/** The host's TSC frequency, for {@code tsc_early_khz=}: without it a TCG guest with ACPI hangs at boot. */
final class HostTsc {
    private HostTsc() {}

    /** kHz from the first {@code cpu MHz} line of {@code /proc/cpuinfo}, when its flags have {@code constant_tsc}. */
    static OptionalLong khz(String cpuinfo) {
        boolean constant = false;
        Double mhz = null;
        for (String line : cpuinfo.split("\n")) {
            int colon = line.indexOf(':');
            if (colon < 0) continue;
            String key = line.substring(0, colon).trim();
            String value = line.substring(colon + 1).trim();
            if (key.equals("flags") && (" " + value + " ").contains(" constant_tsc ")) constant = true;
            if (key.equals("cpu MHz") && mhz == null) {
                try {
                    mhz = Double.parseDouble(value);
                } catch (NumberFormatException e) {
                    return OptionalLong.empty();
                }
            }
        }
        if (!constant || mhz == null || mhz <= 0) return OptionalLong.empty();
        return OptionalLong.of(Math.round(mhz * 1000));
    }
}
