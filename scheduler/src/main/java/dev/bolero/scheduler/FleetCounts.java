package dev.bolero.scheduler;

import java.util.Arrays;
import java.util.Map;

/**
 * How many machines of one fleet the nodes of a snapshot run, by position: the positions holding any, ascending, and
 * their counts, in two arrays (a fleet spread over every node is read without boxing or hashing). Immutable.
 */
final class FleetCounts {
    static final FleetCounts EMPTY = new FleetCounts(new int[0], new int[0]);

    private final int[] positions;
    private final int[] counts;

    private FleetCounts(int[] positions, int[] counts) {
        this.positions = positions;
        this.counts = counts;
    }

    /** The counts of {@code byPosition} (positions with none absent). */
    static FleetCounts of(Map<Integer, Integer> byPosition) {
        int[] positions = byPosition.keySet().stream().mapToInt(Integer::intValue).sorted().toArray();
        int[] counts = new int[positions.length];
        for (int i = 0; i < positions.length; i++) {
            counts[i] = byPosition.get(positions[i]);
        }
        return new FleetCounts(positions, counts);
    }

    /** How many positions hold machines of the fleet. */
    int size() {
        return positions.length;
    }

    /** The {@code i}th position holding any, ascending. */
    int position(int i) {
        return positions[i];
    }

    /** How many machines the {@code i}th position holding any runs. */
    int count(int i) {
        return counts[i];
    }

    /** These counts with one more machine on position {@code p}. */
    FleetCounts plusOne(int p) {
        int i = Arrays.binarySearch(positions, p);
        if (i >= 0) {
            int[] more = counts.clone();
            more[i]++;
            return new FleetCounts(positions, more);
        }
        int at = -i - 1;
        int[] widerPositions = new int[positions.length + 1];
        int[] widerCounts = new int[counts.length + 1];
        System.arraycopy(positions, 0, widerPositions, 0, at);
        System.arraycopy(counts, 0, widerCounts, 0, at);
        widerPositions[at] = p;
        widerCounts[at] = 1;
        System.arraycopy(positions, at, widerPositions, at + 1, positions.length - at);
        System.arraycopy(counts, at, widerCounts, at + 1, counts.length - at);
        return new FleetCounts(widerPositions, widerCounts);
    }

    /** The positions holding any as a bitset over {@code n} positions. */
    long[] bitset(int n) {
        long[] bits = new long[(n + 63) >>> 6];
        for (int p : positions) {
            bits[p >>> 6] |= 1L << p;
        }
        return bits;
    }
}
