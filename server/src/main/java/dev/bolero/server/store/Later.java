package dev.bolero.server.store;

import java.sql.SQLException;
import java.util.function.Function;

/**
 * The result of a statement that was queued rather than run: on PostgreSQL, statements a transaction queues go
 * together in one round trip, sent when one of their results is asked for or a statement is run at once, and at the
 * transaction's end at the latest. Queue the reads a step needs first, then ask for their results: they cost one round
 * trip instead of one each.
 *
 * @param <T> the result
 */
@FunctionalInterface
public interface Later<T> {
    /**
     * The result, sending the queued statements first if they were not sent yet.
     *
     * @throws SQLException when this statement or one queued before it failed
     */
    T get() throws SQLException;

    /** This result mapped by {@code f} when asked for. */
    default <R> Later<R> map(Function<? super T, ? extends R> f) {
        return () -> f.apply(get());
    }

    /** A result there already. */
    static <T> Later<T> of(T value) {
        return () -> value;
    }
}
