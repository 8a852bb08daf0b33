package dev.lstm4j.bench;

import java.util.Arrays;

/**
 * The round trip of one cache line between two threads, to record which mode the shared machine was in: on the
 * 2-vCPU development VM it flipped between about 70 ns and about 320 ns for minutes at a time (the host placing
 * the two vCPUs near or far apart), which moves every 2-thread result that syncs per step (W2, W3).
 */
public final class CoreProbe {
    private static volatile int ping, pong;

    private CoreProbe() {
    }

    public static void main(String[] args) throws InterruptedException {
        int rounds = 200_000;
        long[] ns = new long[5];
        for (int trial = 0; trial < ns.length; trial++) {
            ping = 0;
            pong = 0;
            Thread echo = new Thread(() -> {
                for (int i = 1; i <= rounds; i++) {
                    while (ping != i) {
                        Thread.onSpinWait();
                    }
                    pong = i;
                }
            });
            echo.start();
            long t0 = System.nanoTime();
            for (int i = 1; i <= rounds; i++) {
                ping = i;
                while (pong != i) {
                    Thread.onSpinWait();
                }
            }
            ns[trial] = (System.nanoTime() - t0) / rounds;
            echo.join();
        }
        Arrays.sort(ns);
        System.out.println("cross-core round trip (" + (args.length > 0 ? args[0] : "now") + "): " + ns[ns.length / 2] + " ns");
    }
}
