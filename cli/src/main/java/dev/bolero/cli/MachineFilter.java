package dev.bolero.cli;

import dev.bolero.api.wire.ClusterMachine;
import dev.bolero.core.MachineState;
import dev.bolero.core.ValidationException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * The machines {@code bolero ps --filter KEY=VALUE} selects, as docker's filters do: a machine matches one of the
 * values given for a key, and every key given (every {@code label} given). The control plane applies what its list
 * can ({@link #fleet}, {@link #states}, {@link #metadata}) so fewer machines travel; {@link #test} applies them all.
 */
record MachineFilter(Map<Key, List<String>> values) {
    /** What a filter can name. */
    enum Key {
        /** A machine state, e.g. {@code running}. */
        STATE,
        /** A fleet's name. */
        FLEET,
        /** Part of the machine's name. */
        NAME,
        /** The name of the machine's node, or its id or a prefix of that. */
        NODE,
        /** A prefix of the machine's id. */
        ID,
        /** {@code KEY} or {@code KEY=VALUE} of the machine's metadata ({@code metadata} is the same). */
        LABEL;

        static Key parse(String key) {
            if (key.equals("metadata")) return LABEL;
            try {
                return Key.valueOf(key.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--filter " + key + ": unknown key (one of " + Arrays.stream(values())
                        .map(k -> k.name().toLowerCase(Locale.ROOT)).collect(Collectors.joining(", ")) + ", metadata)");
            }
        }
    }

    /** No filter: every machine. */
    static final MachineFilter NONE = new MachineFilter(Map.of());

    MachineFilter {
        var copy = new EnumMap<Key, List<String>>(Key.class);
        values.forEach((k, v) -> copy.put(k, List.copyOf(v)));
        values = Map.copyOf(copy);
    }

    /**
     * The filter of {@code KEY=VALUE} arguments.
     *
     * @throws IllegalArgumentException (a usage error) naming an argument without {@code =}, an unknown key or an
     *     unknown state
     */
    static MachineFilter parse(List<String> filters) {
        var values = new EnumMap<Key, List<String>>(Key.class);
        for (String filter : filters) {
            int eq = filter.indexOf('=');
            if (eq <= 0 || eq == filter.length() - 1) {
                throw new IllegalArgumentException("--filter " + filter + ": expected KEY=VALUE");
            }
            Key key = Key.parse(filter.substring(0, eq));
            String value = filter.substring(eq + 1);
            if (key == Key.STATE) {
                try {
                    MachineState.parse(value);
                } catch (ValidationException e) {
                    throw new IllegalArgumentException("--filter " + filter + ": " + e.getMessage(), e);
                }
            }
            values.computeIfAbsent(key, k -> new ArrayList<>()).add(value);
        }
        return new MachineFilter(values);
    }

    /** The one fleet the control plane can filter by: empty unless exactly one is given. */
    Optional<String> fleet() {
        List<String> fleets = values.getOrDefault(Key.FLEET, List.of());
        return fleets.size() == 1 ? Optional.of(fleets.getFirst()) : Optional.empty();
    }

    /** The states asked for; empty for any. */
    Set<MachineState> states() {
        var states = EnumSet.noneOf(MachineState.class);
        values.getOrDefault(Key.STATE, List.of()).forEach(s -> states.add(MachineState.parse(s)));
        return states;
    }

    /** The {@code KEY=VALUE} labels, every one of which a machine's metadata must hold. */
    Map<String, String> metadata() {
        var metadata = new TreeMap<String, String>();
        for (String label : values.getOrDefault(Key.LABEL, List.of())) {
            int eq = label.indexOf('=');
            if (eq > 0) metadata.put(label.substring(0, eq), label.substring(eq + 1));
        }
        return metadata;
    }

    /** Whether {@code m} matches every key given. */
    boolean test(ClusterMachine m) {
        return values.entrySet().stream().allMatch(e -> e.getKey() == Key.LABEL
                ? e.getValue().stream().allMatch(label -> hasLabel(m, label))
                : e.getValue().stream().anyMatch(matcher(e.getKey(), m)));
    }

    /** Whether the filter names a state: then machines not meant to run show too, as docker's status filter does. */
    boolean namesState() {
        return values.containsKey(Key.STATE);
    }

    private static Predicate<String> matcher(Key key, ClusterMachine m) {
        return value -> switch (key) {
            case STATE -> m.state() == MachineState.parse(value);
            case FLEET -> value.equals(m.fleet());
            case NAME -> m.name() != null && m.name().contains(value);
            case NODE -> value.equals(m.nodeName()) || m.nodeId() != null && m.nodeId().startsWith(value);
            case ID -> m.id().startsWith(value);
            case LABEL -> hasLabel(m, value);
        };
    }

    private static boolean hasLabel(ClusterMachine m, String label) {
        Map<String, String> metadata = m.config().metadata();
        int eq = label.indexOf('=');
        return eq < 0 ? metadata.containsKey(label) : label.substring(eq + 1).equals(metadata.get(label.substring(0, eq)));
    }
}
