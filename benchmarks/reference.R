# Reference estimates for the public data sets the tests and the speed suite fit
# (benchmarks/public_data.py writes them: .venv/bin/python benchmarks/public_data.py):
# maximum likelihood by glmmTMB (negative binomial NB2, zero-inflated NB2; pscl and MASS for
# the one-level bioChemists), with the same
# data preparation. Run from the repository's top:
#   Rscript benchmarks/reference.R     (Debian: r-cran-glmmtmb, r-cran-pscl)
# Writes tests/reference/<case>.csv: term, estimate, std_error.
suppressMessages(library(glmmTMB))
data_dir <- Sys.getenv("BAYESCLUSTER_RDATA", "out/rdata")
out_dir <- "tests/reference"
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

fixed <- function(fit, name) {
  s <- summary(fit)$coefficients
  rows <- list(data.frame(part = "count", term = rownames(s$cond),
                          estimate = s$cond[, "Estimate"], std_error = s$cond[, "Std. Error"]))
  if (!is.null(s$zi)) {
    rows[[2]] <- data.frame(part = "zero", term = rownames(s$zi),
                            estimate = s$zi[, "Estimate"], std_error = s$zi[, "Std. Error"])
  }
  sds <- unlist(lapply(VarCorr(fit)$cond, function(v) attr(v, "stddev")))
  rows[[length(rows) + 1]] <- data.frame(part = "sd", term = names(sds), estimate = sds,
                                         std_error = NA)
  rows[[length(rows) + 1]] <- data.frame(part = "dispersion", term = "alpha",
                                         estimate = 1 / sigma(fit), std_error = NA)
  table <- do.call(rbind, rows)
  write.csv(table, file.path(out_dir, paste0(name, ".csv")), row.names = FALSE)
  cat(name, "\n"); print(table, row.names = FALSE)
}

grouse <- read.csv(file.path(data_dir, "grouseticks.csv"))
f <- TICKS ~ YEAR + HEIGHT + (1 | LOCATION / BROOD)
fixed(glmmTMB(f, grouse, family = nbinom2), "grouseticks_negbin")
fixed(glmmTMB(f, grouse, family = nbinom2, ziformula = ~1), "grouseticks_zinb")

epil <- read.csv(file.path(data_dir, "epil.csv"))
g <- y ~ trt + base + age + (1 | subject)
fixed(glmmTMB(g, epil, family = nbinom2), "epil_negbin")
fixed(glmmTMB(g, epil, family = nbinom2, ziformula = ~1), "epil_zinb")

# pscl's bioChemists: one level, so pscl's own fits (r-cran-pscl; MASS's glm.nb for NB2).
suppressMessages({library(pscl); library(MASS)})
single <- function(fit, name) {
  s <- summary(fit)$coefficients
  count <- if (is.list(s)) s$count else s
  rows <- list(data.frame(part = "count", term = rownames(count),
                          estimate = count[, "Estimate"], std_error = count[, "Std. Error"]))
  if (is.list(s)) {
    rows[[2]] <- data.frame(part = "zero", term = rownames(s$zero),
                            estimate = s$zero[, "Estimate"], std_error = s$zero[, "Std. Error"])
  }
  count_rows <- rownames(count) != "Log(theta)"
  rows[[1]] <- rows[[1]][count_rows, ]
  rows[[length(rows) + 1]] <- data.frame(part = "dispersion", term = "alpha",
                                         estimate = 1 / fit$theta, std_error = NA)
  table <- do.call(rbind, rows)
  write.csv(table, file.path(out_dir, paste0(name, ".csv")), row.names = FALSE)
  cat(name, "\n"); print(table, row.names = FALSE)
}

bio <- read.csv(file.path(data_dir, "biochemists.csv"))
h <- art ~ fem + mar + kid5 + phd + ment
single(glm.nb(h, bio), "biochemists_negbin")
single(zeroinfl(art ~ fem + mar + kid5 + phd + ment | 1, bio, dist = "negbin"),
       "biochemists_zinb")
