package dev.bolero.core;

import java.util.Arrays;
import java.util.Locale;

/** The wire names of the domain's enums: the constant's name in lowercase, {@code _} as {@code -}. */
final class WireNames {
    private WireNames() {}

    static String of(Enum<?> constant) {
        return constant.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /**
     * The constant of {@code type} whose wire name is {@code wire}.
     *
     * @param kind what the enum names, for the message ({@code machine state})
     * @throws ValidationException naming the value and the legal ones
     */
    static <E extends Enum<E>> E parse(Class<E> type, String kind, String wire) {
        E[] constants = type.getEnumConstants();
        for (E e : constants) {
            if (of(e).equals(wire)) return e;
        }
        throw new ValidationException("unknown " + kind + " '" + wire + "' (one of "
                + String.join(", ", Arrays.stream(constants).map(WireNames::of).toList()) + ")");
    }
}
