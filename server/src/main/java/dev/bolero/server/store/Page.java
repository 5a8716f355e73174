package dev.bolero.server.store;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One page of a list read by key: the rows whose key sorts after {@code after} (from the first row when empty), at
 * most {@code limit} of them, in key order. The next page starts after the last key of this one, so rows inserted or
 * deleted between two pages neither shift nor repeat the others: a row there from the first page to the last is
 * read exactly once.
 */
public record Page(Optional<String> after, int limit) {
    /** How many rows a page has when the caller does not say. */
    public static final int DEFAULT_LIMIT = 100;
    /** The most rows a page may have. */
    public static final int MAX_LIMIT = 1000;

    /** @throws IllegalArgumentException for an empty key or a limit outside 1 to {@link #MAX_LIMIT} */
    public Page {
        Objects.requireNonNull(after, "after");
        if (after.isPresent() && after.get().isEmpty()) throw new IllegalArgumentException("page after an empty key");
        if (limit < 1 || limit > MAX_LIMIT) {
            throw new IllegalArgumentException("page limit must be from 1 to " + MAX_LIMIT + ", got " + limit);
        }
    }

    /** The first page of at most {@code limit} rows. */
    public static Page first(int limit) {
        return new Page(Optional.empty(), limit);
    }

    /** The page of as many rows as this one that starts after {@code key}. */
    public Page after(String key) {
        return new Page(Optional.of(key), limit);
    }

    /**
     * The end of a query reading this page by column {@code key}: {@code KEY > ? ORDER BY KEY LIMIT ?}, to follow a
     * {@code WHERE} or an {@code AND}; its parameters are {@link #args}. Keys are never empty, so the first page reads
     * after {@code ''}.
     */
    static String sql(String key) {
        return key + " > ? ORDER BY " + key + " LIMIT ?";
    }

    /** {@code leading} (the query's own parameters), then this page's parameters of {@link #sql}. */
    Object[] args(Object... leading) {
        var args = new ArrayList<Object>(List.of(leading));
        args.add(after.orElse(""));
        args.add(limit);
        return args.toArray();
    }

    /**
     * The end of a query reading this page of {@code table}'s rows newest first, by {@code created_at} then {@code id}
     * (both descending), the key being the {@code id} of the previous page's last row: {@code AND … ORDER BY … LIMIT
     * ?}, to follow a {@code WHERE}; its parameters are {@link #newestFirstArgs}. A key whose row is gone selects no
     * rows.
     */
    String sqlNewestFirst(String table) {
        String order = " ORDER BY created_at DESC, id DESC LIMIT ?";
        if (after.isEmpty()) return order;
        String created = "(SELECT created_at FROM " + table + " WHERE id = ?)";
        return " AND (created_at < " + created + " OR (created_at = " + created + " AND id < ?))" + order;
    }

    /** {@code leading} (the query's own parameters), then this page's parameters of {@link #sqlNewestFirst}. */
    Object[] newestFirstArgs(Object... leading) {
        var args = new ArrayList<Object>(List.of(leading));
        after.ifPresent(key -> args.addAll(List.of(key, key, key)));
        args.add(limit);
        return args.toArray();
    }
}
