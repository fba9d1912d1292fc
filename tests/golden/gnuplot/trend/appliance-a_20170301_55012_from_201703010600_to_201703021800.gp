# miq-memlog 0.1.0
# selection: --host appliance-a --worker MetricsProcessor --from 2017-03-01T06:00 --to 2017-03-02 18:00
# zone: UTC
# database: 4 ingested log files, content digest c5d0c3295f3d02bf
# process: host appliance-a pid 55012 worker MiqEmsMetricsProcessorWorker
# Run: gnuplot appliance-a_20170301_55012_from_201703010600_to_201703021800.gp  (writes appliance-a_20170301_55012_from_201703010600_to_201703021800.png beside it)
# Restarts (dashed red lines) are memory_exceeded events: the server stopped the
# worker for exceeding its memory limit. Heap dumps are the impulses.

# The data files sit beside this script.
dir = ""
do for [i = 1:strlen(ARG0)] { if (ARG0[i:i] eq "/") { dir = ARG0[1:i] } }
rss_top = 628793344.0
# Another size: gnuplot -e 'width = 1920; height = 1080' NAME.gp
if (!exists("width")) width = 1280
if (!exists("height")) height = 720
set terminal pngcairo size width,height font "DejaVu Sans,10"
set output dir."appliance-a_20170301_55012_from_201703010600_to_201703021800.png"
set title "appliance-a  MiqEmsMetricsProcessorWorker  pid 55012\n2017-03-01 13:25 to 2017-03-02 16:34 (UTC)" noenhanced
set xdata time
set timefmt "%Y-%m-%dT%H:%M:%S"
set format x "%m/%d %H:%M"
set xrange ["2017-03-01T13:05:03.239602":"2017-03-02T17:00:57.995918"]
set xlabel "time (UTC)" noenhanced
set ylabel "memory (bytes)"
set format y "%.1s %cB"
set yrange [0:rss_top * 1.15]
set ytics nomirror
set y2label "objects"
set format y2 "%.1s %c"
set y2tics
set y2range [0:*]
set grid
set key outside top center horizontal
set arrow 1 from first "2017-03-02T16:40:31.718402", graph 0 to first "2017-03-02T16:40:31.718402", graph 1 nohead lw 2 dt 2 lc rgb "#d62728" front
# Trends: the Theil-Sen fits of `miq-memlog report` over the same selection,
# a + b * hours since trend_t0 (the first sample), a and b in MB (2^20 bytes)
# or objects.
trend_t0 = strptime("%Y-%m-%dT%H:%M:%S", "2017-03-01T13:25:29.517118")
rss_a = 181.65356858568157
rss_b = 15.386833590191205
rss_from = strptime("%Y-%m-%dT%H:%M:%S", "2017-03-01T13:25:29.517118")
rss_to = strptime("%Y-%m-%dT%H:%M:%S", "2017-03-02T16:34:24.386634")
rss_trend(x) = (rss_a + rss_b * (x - trend_t0) / 3600.0) * 1048576
old_a = 333395.16749014606
old_b = 19359.23963589831
old_from = strptime("%Y-%m-%dT%H:%M:%S", "2017-03-01T13:25:29.517118")
old_to = strptime("%Y-%m-%dT%H:%M:%S", "2017-03-02T16:34:24.386634")
old_trend(x) = (old_a + old_b * (x - trend_t0) / 3600.0)
plot dir."appliance-a_20170301_55012_from_201703010600_to_201703021800.data" using 1:3 title "RSS" with lines lw 2 lc rgb "#1f77b4", \
     dir."appliance-a_20170301_55012_from_201703010600_to_201703021800.data" using 1:2 title "PSS" with lines lw 2 lc rgb "#2ca02c", \
     dir."appliance-a_20170301_55012_from_201703010600_to_201703021800.data" using 1:4 axes x1y2 title "live objects" with lines lc rgb "#ff7f0e", \
     dir."appliance-a_20170301_55012_from_201703010600_to_201703021800.data" using 1:5 axes x1y2 title "old objects" with lines lc rgb "#9467bd", \
     [rss_from:rss_to] rss_trend(x) title "RSS trend +15.4 MiB/h" with lines lw 2 dt (12,6) lc rgb "#08306b", \
     [old_from:old_to] old_trend(x) axes x1y2 title "old objects trend +19.4 k/h" with lines lw 2 dt (12,6) lc rgb "#6a1b9a", \
     dir."appliance-a_20170301_55012_from_201703010600_to_201703021800.impulses" using 1:(rss_top * 1.1) title "heap dump" with impulses lw 3 lc rgb "#8c564b", \
     NaN title "restart (memory limit exceeded)" with lines lw 2 dt 2 lc rgb "#d62728"
