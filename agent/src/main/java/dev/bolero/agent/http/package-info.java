/** The node REST API ({@code /api/v1}): HTTP parsing and error mapping, separate from the work it asks for. */
package dev.bolero.agent.http;
