package dev.bolero.api.wire;

/** Body of {@code POST /v1/namespaces}. */
public record NamespaceSpec(String name) {
    public NamespaceSpec {
        Names.check("namespace name", name);
    }
}
