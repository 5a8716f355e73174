package dev.bolero.api;

/**
 * How the node and server APIs read their query parameters, so that both accept and refuse the same values with the
 * same messages.
 */
public final class QueryParams {
    private QueryParams() {}

    /**
     * The whole number {@code value} of query parameter {@code name}, or {@code dflt} when it is absent (null).
     *
     * @throws ApiException (invalid argument) if it is not a whole number from {@code min} to {@code max}
     */
    public static int wholeNumber(String name, String value, int dflt, int min, int max) {
        if (value == null) return dflt;
        try {
            int n = Integer.parseInt(value);
            if (n >= min && n <= max) return n;
        } catch (NumberFormatException e) {
            // the error below names the value
        }
        throw ApiException.invalid(name + " must be a whole number from " + min + " to " + max + ", got '" + value + "'");
    }

    /**
     * The boolean {@code value} of query parameter {@code name}: {@code true} or {@code false}, false when absent
     * (null).
     *
     * @throws ApiException (invalid argument) for any other value ({@code 1}, {@code yes}, {@code TRUE})
     */
    public static boolean flag(String name, String value) {
        if (value == null) return false;
        return switch (value) {
            case "true" -> true;
            case "false" -> false;
            default -> throw ApiException.invalid(name + " must be true or false, got '" + value + "'");
        };
    }
}
