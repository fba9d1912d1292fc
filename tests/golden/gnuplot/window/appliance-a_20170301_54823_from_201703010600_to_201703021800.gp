# miq-memlog 0.1.0
# selection: --host appliance-a --worker MetricsProcessor --from 2017-03-01T06:00 --to 2017-03-02 18:00
# zone: UTC
# database: 4 ingested log files, content digest c5d0c3295f3d02bf
# process: host appliance-a pid 54823 worker MiqEmsMetricsProcessorWorker
# Run: gnuplot appliance-a_20170301_54823_from_201703010600_to_201703021800.gp  (writes appliance-a_20170301_54823_from_201703010600_to_201703021800.png beside it)
# Restarts (dashed red lines) are memory_exceeded events: the server stopped the
# worker for exceeding its memory limit. Heap dumps are the impulses.

# The data files sit beside this script.
dir = ""
do for [i = 1:strlen(ARG0)] { if (ARG0[i:i] eq "/") { dir = ARG0[1:i] } }
rss_top = 628281344.0
# Another size: gnuplot -e 'width = 1920; height = 1080' NAME.gp
if (!exists("width")) width = 1280
if (!exists("height")) height = 720
set terminal pngcairo size width,height font "DejaVu Sans,10"
set output dir."appliance-a_20170301_54823_from_201703010600_to_201703021800.png"
set title "appliance-a  MiqEmsMetricsProcessorWorker  pid 54823\n2017-03-01 06:04 to 2017-03-01 13:18 (UTC)" noenhanced
set xdata time
set timefmt "%Y-%m-%dT%H:%M:%S"
set format x "%m/%d %H:%M"
set xrange ["2017-03-01T05:59:17.389802":"2017-03-01T13:27:32.999450"]
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
set arrow 1 from first "2017-03-01T13:22:05.004211", graph 0 to first "2017-03-01T13:22:05.004211", graph 1 nohead lw 2 dt 2 lc rgb "#d62728" front
plot dir."appliance-a_20170301_54823_from_201703010600_to_201703021800.data" using 1:3 title "RSS" with lines lw 2 lc rgb "#1f77b4", \
     dir."appliance-a_20170301_54823_from_201703010600_to_201703021800.data" using 1:2 title "PSS" with lines lw 2 lc rgb "#2ca02c", \
     dir."appliance-a_20170301_54823_from_201703010600_to_201703021800.data" using 1:4 axes x1y2 title "live objects" with lines lc rgb "#ff7f0e", \
     dir."appliance-a_20170301_54823_from_201703010600_to_201703021800.data" using 1:5 axes x1y2 title "old objects" with lines lc rgb "#9467bd", \
     NaN title "restart (memory limit exceeded)" with lines lw 2 dt 2 lc rgb "#d62728"
