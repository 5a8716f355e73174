package dev.bolero.cli;

import dev.bolero.api.ApiJson;
import dev.bolero.api.wire.DeployPolicy;
import dev.bolero.api.wire.FleetSpec;
import dev.bolero.core.MachineSpec;
import dev.bolero.core.ValidationException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import tools.jackson.core.JacksonException;
import tools.jackson.core.exc.StreamReadException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.exc.ValueInstantiationException;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.dataformat.toml.TomlMapper;

/**
 * An application's manifest, {@code bolero.toml}: one fleet, in the API's own shape written as TOML.
 *
 * <p>Its top-level keys are the fleet's ({@link FleetSpec}: {@code name} and {@code count}, both required, and
 * {@code region}, {@code strategy}, {@code node_labels}); its {@code [config]} table is the fleet's machine config as the
 * API takes it ({@link MachineSpec.Overlay}: {@code image}, required, {@code guest}, {@code env}, {@code checks},
 * {@code http_service}, {@code mounts}, {@code secrets}, …); its {@code [deploy]} table is how a new release of it
 * rolls out ({@link DeployPolicy}: {@code strategy}, {@code max_unavailable}, {@code wait_timeout_s}). It is read as
 * strictly as the API reads JSON, by the same mapping: an unknown key, a value of the wrong type or an illegal value is
 * refused, naming the key's path and, when it can be found, its line.
 *
 * @param fleet the fleet, with a name, a count and a config naming an image
 * @param deploy how a deploy of it proceeds, defaults where the file says nothing
 */
record AppManifest(FleetSpec fleet, DeployPolicy deploy) {
    private static final TomlMapper TOML = TomlMapper.builder().build();

    AppManifest {
        Objects.requireNonNull(fleet, "manifest: fleet");
        Objects.requireNonNull(deploy, "manifest: deploy");
    }

    /** The {@code [deploy]} table, read under its own key so that errors name it. */
    private record DeployTable(DeployPolicy deploy) {}

    /**
     * Reads manifest {@code file}.
     *
     * @throws IllegalArgumentException {@code read FILE: …} when it cannot be read or is not a valid manifest
     */
    static AppManifest read(Path file) {
        try {
            return parse(Files.readString(file), file.toString());
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("read " + file + ": no such file", e);
        } catch (IOException e) {
            throw new IllegalArgumentException("read " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Parses manifest text {@code toml}, called {@code source} in errors.
     *
     * @throws IllegalArgumentException {@code read SOURCE: …} naming the first thing wrong: malformed TOML (with its
     *     line), an unknown key, a value of the wrong type or an illegal one, a required key missing (each with its
     *     path, and its line when it can be found)
     */
    static AppManifest parse(String toml, String source) {
        String action = "read " + source;
        ObjectNode doc;
        try {
            doc = (ObjectNode) TOML.readTree(toml);
        } catch (StreamReadException e) {
            var at = e.getLocation();
            // The parser reports where it stopped: the line of the fault or the next one.
            throw new IllegalArgumentException(action + ": malformed TOML" + (at == null ? "" : " near line "
                    + at.getLineNr()) + ": " + e.getOriginalMessage(), e);
        }
        JsonNode deployNode = doc.remove("deploy");
        FleetSpec fleet = convert(doc, FleetSpec.class, toml, action);
        DeployPolicy deploy = deployNode == null ? new DeployPolicy(null, null, null)
                : convert(TOML.createObjectNode().set("deploy", deployNode), DeployTable.class, toml, action).deploy();
        if (fleet.name() == null) throw new IllegalArgumentException(action + ": name is required (the fleet's)");
        if (fleet.scale().isEmpty()) {
            throw new IllegalArgumentException(action + ": count or counts is required (how many machines the fleet "
                    + "keeps, in all or per region)");
        }
        if (fleet.config() == null) throw new IllegalArgumentException(action + ": [config] is required");
        try {
            fleet.config().toSpec(); // a complete config: an image at least
        } catch (ValidationException e) {
            throw refused(action, e.getMessage(), toml, List.of(firstWord(e.getMessage())), e);
        }
        return new AppManifest(fleet, deploy);
    }

    /** {@code node} as a {@code type}, read by the API's strict mapping. */
    private static <T> T convert(JsonNode node, Class<T> type, String toml, String action) {
        try {
            return ApiJson.mapper().treeToValue(node, type);
        } catch (ValueInstantiationException e) {
            // A record refused a value: its message starts with the field's path from the record, or from the API's
            // body for machine configs (config.…).
            String path = ApiJson.path(e);
            String message = ApiJson.refusal(action, e).getMessage();
            if (message.startsWith(action + ": ")) message = message.substring(action.length() + 2);
            String word = firstWord(message);
            if (!path.isEmpty() && !word.startsWith(path)) {
                message = path + "." + message;
                word = path + "." + word;
            }
            throw refused(action, message, toml, List.of(word, path), e);
        } catch (JacksonException e) {
            throw refused(action, ApiJson.refusal(action, e).getMessage(), toml, List.of(ApiJson.path(e)), e);
        }
    }

    /**
     * The error of {@code message}, after {@code action} unless it starts with it, with the line of the first of
     * {@code paths} found in {@code toml}.
     */
    private static IllegalArgumentException refused(String action, String message, String toml, List<String> paths,
                                                    Exception cause) {
        String text = message.startsWith(action + ": ") ? message : action + ": " + message;
        for (String path : paths) {
            OptionalInt line = Lines.of(toml, path);
            if (line.isPresent()) return new IllegalArgumentException(text + " (line " + line.getAsInt() + ")", cause);
        }
        return new IllegalArgumentException(text, cause);
    }

    /** The first word of {@code message}: a validation message starts with the path of its field. */
    private static String firstWord(String message) {
        int space = message.indexOf(' ');
        return space < 0 ? message : message.substring(0, space);
    }

    /**
     * Where a key is in a TOML text: enough of TOML (tables, arrays of tables, dotted keys, inline tables one level
     * deep, comments) to point at a line, not a parser.
     */
    static final class Lines {
        private static final Pattern INLINE_KEY = Pattern.compile("[{,]\\s*[\"']?([A-Za-z0-9_-]+)[\"']?\\s*=");

        private Lines() {}

        /**
         * The line (from 1) of the key or table at {@code path} ({@code config.guest.cpus}, {@code config.mounts[1]
         * .path}: the second {@code path} under {@code config.mounts}) in {@code toml}; empty when it is not there.
         */
        static OptionalInt of(String toml, String path) {
            if (path == null || path.isEmpty()) return OptionalInt.empty();
            Matcher index = Pattern.compile("\\[(\\d+)]").matcher(path);
            int nth = index.find() ? Integer.parseInt(index.group(1)) : 0;
            List<String> want = keys(path.replaceAll("\\[\\d+]", ""));
            var hits = new ArrayList<Integer>();
            List<String> table = List.of();
            String[] lines = toml.split("\n", -1);
            for (int i = 0; i < lines.length; i++) {
                String line = uncommented(lines[i]).strip();
                if (line.startsWith("[")) {
                    table = keys(line.replaceAll("^\\[+|]+$", ""));
                    if (table.equals(want)) hits.add(i + 1);
                    continue;
                }
                int eq = line.indexOf('=');
                if (eq <= 0) continue;
                var full = new ArrayList<>(table);
                full.addAll(keys(line.substring(0, eq)));
                if (full.equals(want)) {
                    hits.add(i + 1);
                } else if (want.size() == full.size() + 1 && want.subList(0, full.size()).equals(full)) {
                    Matcher inner = INLINE_KEY.matcher(line.substring(eq + 1));
                    while (inner.find()) if (inner.group(1).equals(want.getLast())) hits.add(i + 1);
                }
            }
            return hits.isEmpty() ? OptionalInt.empty() : OptionalInt.of(hits.get(Math.min(nth, hits.size() - 1)));
        }

        /** The names of dotted key {@code dotted}, quotes and spaces dropped. */
        private static List<String> keys(String dotted) {
            var out = new ArrayList<String>();
            for (String k : dotted.split("\\.")) out.add(k.strip().replaceAll("^[\"']|[\"']$", ""));
            return out;
        }

        /** {@code line} without its comment: from a {@code #} outside a string. */
        private static String uncommented(String line) {
            char quote = 0;
            for (int i = 0; i < line.length(); i++) {
                char c = line.charAt(i);
                if (quote != 0) {
                    if (c == '\\' && quote == '"') i++;
                    else if (c == quote) quote = 0;
                } else if (c == '"' || c == '\'') {
                    quote = c;
                } else if (c == '#') {
                    return line.substring(0, i);
                }
            }
            return line;
        }
    }
}
