package dev.bolero.api.testing;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A {@code /metrics} answer parsed as Prometheus's text format (version 0.0.4): every sample with its labels and
 * value, and every family's declared type. Parsing fails on a line that is neither a comment nor a well-formed sample,
 * on a sample of a family without a {@code # TYPE}, and on a name that breaks Prometheus's conventions this project
 * keeps: a counter's samples end in {@code _total}, and nothing but a counter does.
 */
public record PrometheusText(List<Sample> samples, Map<String, String> types) {
    private static final Pattern SAMPLE = Pattern.compile(
            "([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})? (NaN|[+-]Inf|[-+0-9.eE]+)(?: -?\\d+)?");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\",?");
    private static final Pattern TYPE = Pattern.compile("# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) "
            + "(counter|gauge|histogram|summary|untyped)");

    /** One sample: a series' name, its labels and its value. */
    public record Sample(String name, Map<String, String> labels, double value) {
        public Sample {
            labels = Map.copyOf(labels);
        }
    }

    public PrometheusText {
        samples = List.copyOf(samples);
        types = Map.copyOf(types);
    }

    /**
     * Parses {@code text}.
     *
     * @throws IllegalArgumentException naming the line that is malformed, has no type, or breaks the naming rules
     */
    public static PrometheusText parse(String text) {
        var samples = new ArrayList<Sample>();
        var types = new HashMap<String, String>();
        for (String line : text.split("\n")) {
            if (line.isBlank()) continue;
            if (line.startsWith("#")) {
                Matcher type = TYPE.matcher(line);
                if (type.matches()) types.put(type.group(1), type.group(2));
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            if (!m.matches()) throw new IllegalArgumentException("not a Prometheus sample: " + line);
            var labels = new LinkedHashMap<String, String>();
            if (m.group(2) != null) {
                Matcher label = LABEL.matcher(m.group(2));
                int end = 0;
                while (label.find() && label.start() == end) {
                    labels.put(label.group(1), label.group(2).replace("\\\"", "\"").replace("\\n", "\n")
                            .replace("\\\\", "\\"));
                    end = label.end();
                }
                if (end != m.group(2).length()) throw new IllegalArgumentException("malformed labels: " + line);
            }
            String name = m.group(1);
            String family = family(name, types).orElseThrow(() ->
                    new IllegalArgumentException("a sample of no declared family: " + line));
            String type = types.get(family);
            if (type.equals("counter") != name.endsWith("_total")) {
                throw new IllegalArgumentException("a " + type + " sample " + (type.equals("counter")
                        ? "without" : "with") + " the counter suffix _total: " + line);
            }
            samples.add(new Sample(name, labels, Double.parseDouble(m.group(3).replace("Inf", "Infinity"))));
        }
        return new PrometheusText(samples, types);
    }

    /** The family a sample name belongs to: itself, or it less a histogram's, summary's or counter's suffix. */
    private static Optional<String> family(String name, Map<String, String> types) {
        if (types.containsKey(name)) return Optional.of(name);
        for (String suffix : List.of("_total", "_bucket", "_count", "_sum", "_created", "_max")) {
            if (name.endsWith(suffix) && types.containsKey(name.substring(0, name.length() - suffix.length()))) {
                return Optional.of(name.substring(0, name.length() - suffix.length()));
            }
        }
        return Optional.empty();
    }

    /** The samples named {@code name} whose labels include every one of {@code labels}. */
    public List<Sample> find(String name, Map<String, String> labels) {
        return samples.stream().filter(s -> s.name().equals(name)
                && s.labels().entrySet().containsAll(labels.entrySet())).toList();
    }

    /**
     * The one sample named {@code name} whose labels include {@code labels}.
     *
     * @throws AssertionError when there is none or more than one
     */
    public Sample one(String name, Map<String, String> labels) {
        List<Sample> found = find(name, labels);
        if (found.size() != 1) {
            throw new AssertionError(found.size() + " samples " + name + labels + " (want one) among "
                    + samples.stream().filter(s -> s.name().startsWith(name)).toList());
        }
        return found.getFirst();
    }

    /** The sum of the samples named {@code name} whose labels include {@code labels}; 0 when there are none. */
    public double sum(String name, Map<String, String> labels) {
        return find(name, labels).stream().mapToDouble(Sample::value).sum();
    }
}
