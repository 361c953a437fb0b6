package dev.bhatti.server.api;

import tools.jackson.core.JacksonException;
import tools.jackson.core.exc.InputCoercionException;
import tools.jackson.core.exc.StreamReadException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.PropertyNamingStrategies;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.cfg.CoercionAction;
import tools.jackson.databind.cfg.CoercionInputShape;
import tools.jackson.databind.exc.MismatchedInputException;
import tools.jackson.databind.exc.UnrecognizedPropertyException;
import tools.jackson.databind.type.LogicalType;
import tools.jackson.databind.json.JsonMapper;

import java.util.Collection;
import java.util.Map;

/**
 * The one JSON mapper of the API: snake_case fields, unknown fields and wrong types refused (a typo
 * must not pass silently), and no scalar converted into another: {@code "512"} is not a number,
 * {@code 1} not a string, {@code 1.0} not a whole number, {@code "true"} or {@code 1} not a boolean.
 */
public final class Json {
    public static final JsonMapper MAPPER = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
            .withCoercionConfig(LogicalType.Textual, c -> c.setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
            .withCoercionConfig(LogicalType.Integer, c -> c.setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Float, CoercionAction.Fail))
            .withCoercionConfig(LogicalType.Float, c -> c.setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail))
            .withCoercionConfig(LogicalType.Boolean, c -> c.setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Float, CoercionAction.Fail))
            .build();

    private Json() {}

    /**
     * What was wrong with a request body, for the client: the field by its JSON name and the type it
     * takes, never Jackson's wording or Java's type names.
     */
    static String problem(JacksonException e) {
        return switch (e) {
            case UnrecognizedPropertyException u -> "unknown field '" + u.getPropertyName() + "'";
            case MismatchedInputException m when field(m).isEmpty() -> "request body must be a JSON object";
            case MismatchedInputException m -> "field '" + field(m) + "' must be " + expected(m.getTargetType());
            case InputCoercionException c when !field(c).isEmpty() -> "field '" + field(c) + "' is out of range";
            case InputCoercionException c -> "a number in the request body is out of range";
            case StreamReadException r -> "request body is not valid JSON" + where(r);
            default -> "request body is not valid for this request";
        };
    }

    /** The field's path as the client wrote it: {@code memory_mb}, {@code cmd[2]}, {@code env.HOME}. */
    static String field(JacksonException e) {
        var b = new StringBuilder();
        for (var ref : e.getPath()) {
            if (ref.getPropertyName() != null) {
                if (!b.isEmpty()) b.append('.');
                b.append(ref.getPropertyName());
            } else if (ref.getIndex() >= 0) {
                b.append('[').append(ref.getIndex()).append(']');
            }
        }
        return b.toString();
    }

    private static String expected(Class<?> type) {
        if (type == null) return "of another type";
        if (type == String.class || type == char.class || type == Character.class) return "a string";
        if (type == Integer.class || type == int.class || type == Long.class || type == long.class
                || type == Short.class || type == short.class) return "a whole number";
        if (type == Double.class || type == double.class || type == Float.class || type == float.class) return "a number";
        if (type == Boolean.class || type == boolean.class) return "true or false";
        if (type.isArray() || Collection.class.isAssignableFrom(type)) return "an array";
        if (Map.class.isAssignableFrom(type) || type.isRecord()) return "an object";
        if (type.isEnum()) return "one of the documented values";
        return "of another type";
    }

    private static String where(StreamReadException r) {
        var at = r.getLocation();
        if (at == null || at.getLineNr() < 1) return "";
        return " (line " + at.getLineNr() + ", column " + at.getColumnNr() + ")";
    }

    /** A JSON object's fields in the order given (key, value, ...): a message's "type" comes first for people and stream readers. */
    public static Map<String, Object> fields(Object... kv) {
        var m = new java.util.LinkedHashMap<String, Object>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }
}
