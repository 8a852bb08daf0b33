package dev.lstm4j;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.WildcardType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The line between API and internals: no public or protected signature of a type outside
 * {@code dev.lstm4j.internal} may mention an internal type (parameters, results, exceptions, fields, supertypes,
 * generic arguments), and every API package has a {@code package-info.java}.
 */
class ApiSurfaceTest {
    private static final Path MAIN = Path.of("src/main/java");

    static List<Class<?>> apiClasses() throws IOException {
        List<Class<?>> out = new ArrayList<>();
        try (Stream<Path> files = Files.walk(MAIN.resolve("dev/lstm4j"))) {
            for (Path f : (Iterable<Path>) files::iterator) {
                String rel = MAIN.relativize(f).toString().replace('\\', '/');
                if (!rel.endsWith(".java") || rel.endsWith("package-info.java") || rel.contains("/internal/")) {
                    continue;
                }
                String name = rel.substring(0, rel.length() - 5).replace('/', '.');
                try {
                    out.add(Class.forName(name));
                } catch (ClassNotFoundException e) {
                    throw new AssertionError("cannot load " + name, e);
                }
            }
        }
        return out;
    }

    @Test
    void noInternalTypeInAnyPublicSignature() throws IOException {
        List<String> leaks = new ArrayList<>();
        List<Class<?>> classes = apiClasses();
        assertTrue(classes.size() > 20, "found only " + classes.size() + " API classes under " + MAIN.toAbsolutePath());
        for (Class<?> c : classes) {
            check(c, leaks);
        }
        assertEquals(List.of(), leaks, "internal types in the public API");
    }

    /** Shows the check can fail: a class known to mention an internal type is reported. */
    @Test
    void theCheckFindsALeak() {
        List<String> leaks = new ArrayList<>();
        check(Leaky.class, leaks);
        assertEquals(1, leaks.size(), leaks.toString());
    }

    public static final class Leaky {
        public dev.lstm4j.internal.LstmEngine engine() {
            return null;
        }
    }

    private static void check(Class<?> c, List<String> leaks) {
        if (!Modifier.isPublic(c.getModifiers())) {
            return;
        }
        type(c.getName() + " extends", c.getGenericSuperclass(), leaks);
        for (Type t : c.getGenericInterfaces()) {
            type(c.getName() + " implements", t, leaks);
        }
        for (Method m : c.getDeclaredMethods()) {
            if (visible(m.getModifiers()) && !m.isSynthetic()) {
                String where = c.getName() + "." + m.getName();
                type(where + " returns", m.getGenericReturnType(), leaks);
                for (Type p : m.getGenericParameterTypes()) {
                    type(where + " takes", p, leaks);
                }
                for (Type e : m.getGenericExceptionTypes()) {
                    type(where + " throws", e, leaks);
                }
            }
        }
        for (Constructor<?> k : c.getDeclaredConstructors()) {
            if (visible(k.getModifiers())) {
                for (Type p : k.getGenericParameterTypes()) {
                    type(c.getName() + ".<init> takes", p, leaks);
                }
            }
        }
        for (Field f : c.getDeclaredFields()) {
            if (visible(f.getModifiers())) {
                type(c.getName() + "." + f.getName(), f.getGenericType(), leaks);
            }
        }
        for (Class<?> inner : c.getDeclaredClasses()) {
            check(inner, leaks);
        }
    }

    private static boolean visible(int modifiers) {
        return Modifier.isPublic(modifiers) || Modifier.isProtected(modifiers);
    }

    private static void type(String where, Type t, List<String> leaks) {
        if (t == null) {
            return;
        }
        if (t instanceof Class<?> k) {
            while (k.isArray()) {
                k = k.getComponentType();
            }
            if (k.getName().startsWith("dev.lstm4j.internal.")) {
                leaks.add(where + " " + k.getName());
            }
        } else if (t instanceof ParameterizedType p) {
            type(where, p.getRawType(), leaks);
            for (Type a : p.getActualTypeArguments()) {
                type(where, a, leaks);
            }
        } else if (t instanceof GenericArrayType g) {
            type(where, g.getGenericComponentType(), leaks);
        } else if (t instanceof WildcardType w) {
            for (Type b : w.getUpperBounds()) {
                type(where, b, leaks);
            }
            for (Type b : w.getLowerBounds()) {
                type(where, b, leaks);
            }
        }
    }

    @Test
    void everyApiPackageIsDocumented() throws IOException {
        List<String> missing = new ArrayList<>();
        try (Stream<Path> dirs = Files.walk(MAIN.resolve("dev/lstm4j"))) {
            for (Path d : (Iterable<Path>) dirs::iterator) {
                if (Files.isDirectory(d) && hasJava(d) && !Files.exists(d.resolve("package-info.java"))) {
                    missing.add(MAIN.relativize(d).toString());
                }
            }
        }
        assertEquals(List.of(), missing, "packages without package-info.java");
    }

    private static boolean hasJava(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.anyMatch(p -> p.toString().endsWith(".java"));
        }
    }
}
