package dev.bolero.cli;

import dev.bolero.api.ApiJson;
import dev.bolero.api.PrivateFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import tools.jackson.databind.JsonNode;

/**
 * The CLI's named contexts in {@code ~/.config/bolero/config.json} (mode 0600): each a server URL, its token and a
 * namespace, one of them current ({@code bolero context use NAME}). Flags ({@code --server}, {@code --token},
 * {@code -n}, {@code --context}) win over {@code BOLERO_SERVER}/{@code BOLERO_TOKEN}/{@code BOLERO_NAMESPACE}/
 * {@code BOLERO_CONTEXT}, which win over the current context. A file of an older CLI (one server, token and
 * namespace at its top) reads as the single context {@code default}.
 *
 * @param current the context used when no flag or variable names one; null when there is none
 * @param contexts the contexts by name
 */
record CliConfig(String current, Map<String, Context> contexts) {
    /** The context of a file written before contexts existed. */
    static final String DEFAULT = "default";

    CliConfig {
        contexts = Map.copyOf(contexts == null ? Map.of() : contexts);
        if (current != null && !contexts.containsKey(current)) {
            throw new IllegalArgumentException("the current context '" + current + "' is not among the contexts");
        }
    }

    /** One control plane to talk to. */
    record Context(String server, String token, String namespace) {}

    static Path file() {
        String xdg = System.getenv("XDG_CONFIG_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".config");
        return base.resolve("bolero").resolve("config.json");
    }

    /** The config in {@link #file()}; empty when there is none. */
    static Optional<CliConfig> load() {
        return load(file());
    }

    static Optional<CliConfig> load(Path file) {
        if (!Files.exists(file)) return Optional.empty();
        try {
            JsonNode tree = ApiJson.mapper().readTree(Files.readString(file));
            if (tree.has("contexts")) return Optional.of(ApiJson.mapper().treeToValue(tree, CliConfig.class));
            var old = ApiJson.mapper().treeToValue(tree, Context.class);
            return Optional.of(new CliConfig(DEFAULT, Map.of(DEFAULT, old)));
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("read " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * The context named {@code name}, or the current one when {@code name} is null.
     *
     * @throws IllegalArgumentException when {@code name} names no context
     */
    Optional<Context> context(String name) {
        if (name == null) return Optional.ofNullable(current).map(contexts::get);
        Context c = contexts.get(name);
        if (c == null) {
            throw new IllegalArgumentException("no context '" + name + "' in " + file() + " (bolero context ls)");
        }
        return Optional.of(c);
    }

    /** This config with context {@code name} set to {@code context}, and current if {@code makeCurrent}. */
    CliConfig with(String name, Context context, boolean makeCurrent) {
        var all = new TreeMap<>(contexts);
        all.put(Objects.requireNonNull(name, "name"), context);
        return new CliConfig(makeCurrent || current == null ? name : current, all);
    }

    /** This config without context {@code name} (no context is current if it was). */
    CliConfig without(String name) {
        var all = new TreeMap<>(contexts);
        if (all.remove(name) == null) throw new IllegalArgumentException("no context '" + name + "' to remove");
        return new CliConfig(name.equals(current) ? null : current, all);
    }

    /** This config with {@code name} current. */
    CliConfig use(String name) {
        context(name);
        return new CliConfig(name, contexts);
    }

    void store() {
        store(file());
    }

    /** Writes the config to {@code file}, readable by its owner only ({@code 0600}): it holds tokens. */
    void store(Path file) {
        Path tmp = file.resolveSibling("config.json.tmp");
        try {
            Files.createDirectories(file.getParent());
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PrivateFiles.fileAttribute());
            Files.writeString(tmp, ApiJson.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(this));
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new UncheckedIOException("write " + file + ": " + e.getMessage(), e);
        }
    }
}
