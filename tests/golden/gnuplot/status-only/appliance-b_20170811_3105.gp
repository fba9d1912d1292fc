# miq-memlog 0.1.0
# selection: --host appliance-b --pid 3105
# zone: America/New_York
# database: 4 ingested log files, content digest c5d0c3295f3d02bf
# process: host appliance-b pid 3105 worker ManageIQ::Providers::Redhat::InfraManager::RefreshWorker
# Run: gnuplot appliance-b_20170811_3105.gp  (writes appliance-b_20170811_3105.png beside it)
# Restarts (dashed red lines) are memory_exceeded events: the server stopped the
# worker for exceeding its memory limit. Heap dumps are the impulses.

# The data files sit beside this script.
dir = ""
do for [i = 1:strlen(ARG0)] { if (ARG0[i:i] eq "/") { dir = ARG0[1:i] } }
rss_top = 2148212736.0
# Another size: gnuplot -e 'width = 1920; height = 1080' NAME.gp
if (!exists("width")) width = 1280
if (!exists("height")) height = 720
set terminal pngcairo size width,height font "DejaVu Sans,10"
set output dir."appliance-b_20170811_3105.png"
set title "appliance-b  ManageIQ::Providers::Redhat::InfraManager::RefreshWorker  pid 3105\n2017-08-11 00:00 to 2017-08-11 14:30 (America/New_York)" noenhanced
set xdata time
set timefmt "%Y-%m-%dT%H:%M:%S"
set format x "%m/%d %H:%M"
set xrange ["2017-08-10T23:49:17.466532":"2017-08-11T14:48:10.117372"]
set xlabel "time (America/New_York)" noenhanced
set ylabel "memory (bytes)"
set format y "%.1s %cB"
set yrange [0:rss_top * 1.15]
set ytics nomirror
set grid
set key outside top center horizontal
set arrow 1 from first "2017-08-11T14:37:12.402118", graph 0 to first "2017-08-11T14:37:12.402118", graph 1 nohead lw 2 dt 2 lc rgb "#d62728" front
plot dir."appliance-b_20170811_3105.data" using 1:3 title "RSS" with lines lw 2 lc rgb "#1f77b4", \
     dir."appliance-b_20170811_3105.data" using 1:2 title "PSS" with lines lw 2 lc rgb "#2ca02c", \
     NaN title "restart (memory limit exceeded)" with lines lw 2 dt 2 lc rgb "#d62728"
