# Exports the R `datasets` tables the spoken API set serves:
#   Rscript bench/spoken_api/export_r_datasets.R OUT_DIR
# R's datasets package ships with every R install (GPL-2|GPL-3); the exports are read at
# benchmark time and never committed or shipped.
out <- commandArgs(trailingOnly = TRUE)[1]
dir.create(out, showWarnings = FALSE, recursive = TRUE)
aq <- datasets::airquality
aq$date <- sprintf("1973-%02d-%02d", aq$Month, aq$Day)
write.csv(aq[, c("date", "Ozone", "Solar.R", "Wind", "Temp")], file.path(out, "airquality.csv"), row.names = FALSE)
monthly <- function(x, name) {
  t <- time(x)
  d <- data.frame(date = sprintf("%d-%02d-01", floor(t + 1e-6), round((t - floor(t + 1e-6)) * 12) + 1), value = as.numeric(x))
  write.csv(d, file.path(out, paste0(name, ".csv")), row.names = FALSE)
}
monthly(datasets::AirPassengers, "air_passengers")
monthly(datasets::co2, "co2")
monthly(datasets::nottem, "nottem")
monthly(datasets::sunspots, "sunspots")
write.csv(data.frame(year = as.integer(time(datasets::Nile)), flow = as.numeric(datasets::Nile)), file.path(out, "nile.csv"), row.names = FALSE)
