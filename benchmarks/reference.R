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

# The base distributions beyond Poisson and NB2, each under a zero structure, by glmmTMB on
# bioChemists (one level) and epil (subjects as groups): nbinom1 (NB1), genpois, and the
# Poisson-lognormal as glmmTMB fits it, a Poisson with a row-level random intercept (its
# Laplace approximation of the integral bayescluster takes by quadrature). A hurdle is
# glmmTMB's truncated family with a ziformula (its zero part then is P(zero)).
# "own" is the base's own parameter as bayescluster names it: NB1's phi (V = mu (1 + phi))
# and the generalized Poisson's phi (V = mu phi) are glmmTMB's sigma(fit); the
# Poisson-lognormal's sigma_row the row intercept's SD; with a Wald interval from the
# log-scale standard error (confint's Wald interval on sigma).
own <- function(fit, kind) {
  if (kind == "pln") {
    sd <- attr(VarCorr(fit)$cond$row, "stddev")
    return(data.frame(part = "own", term = "sigma_row", estimate = sd, std_error = NA,
                      lower = NA, upper = NA))
  }
  ci <- confint(fit, parm = "sigma")
  data.frame(part = "own", term = "dispersion", estimate = sigma(fit), std_error = NA,
             lower = ci[1, 1], upper = ci[1, 2])
}
tmb <- function(fit, name, kind) {
  s <- summary(fit)$coefficients
  rows <- list(data.frame(part = "count", term = rownames(s$cond), estimate = s$cond[, 1],
                          std_error = s$cond[, 2], lower = NA, upper = NA))
  if (!is.null(s$zi)) {
    rows[[2]] <- data.frame(part = "zero", term = rownames(s$zi), estimate = s$zi[, 1],
                            std_error = s$zi[, 2], lower = NA, upper = NA)
  }
  if (kind != "poisson") rows[[length(rows) + 1]] <- own(fit, kind)
  table <- do.call(rbind, rows)
  write.csv(table, file.path(out_dir, paste0(name, ".csv")), row.names = FALSE)
  cat(name, "\n"); print(table, row.names = FALSE)
}
bio$row <- factor(seq_len(nrow(bio)))
hb <- art ~ fem + mar + kid5 + phd + ment
tmb(glmmTMB(hb, bio, family = nbinom1), "biochemists_nb1", "nb1")
tmb(glmmTMB(hb, bio, family = genpois), "biochemists_genpois", "genpois")
tmb(glmmTMB(update(hb, . ~ . + (1 | row)), bio, family = poisson), "biochemists_pln", "pln")
tmb(glmmTMB(hb, bio, family = poisson, ziformula = ~1), "biochemists_zip", "poisson")
tmb(glmmTMB(hb, bio, family = truncated_nbinom1, ziformula = ~1), "biochemists_hurdle_nb1",
    "nb1")
tmb(glmmTMB(hb, bio, family = truncated_genpois, ziformula = ~1),
    "biochemists_hurdle_genpois", "genpois")
tmb(glmmTMB(hb, bio, family = nbinom1, ziformula = ~1), "biochemists_zinb1", "nb1")
tmb(glmmTMB(hb, bio, family = truncated_poisson, ziformula = ~1),
    "biochemists_hurdle_poisson", "poisson")
epil$row <- factor(seq_len(nrow(epil)))
ge <- y ~ trt + base + age + (1 | subject)
tmb(glmmTMB(ge, epil, family = nbinom1), "epil_nb1", "nb1")
tmb(glmmTMB(ge, epil, family = genpois), "epil_genpois", "genpois")
tmb(glmmTMB(update(ge, . ~ . + (1 | row)), epil, family = poisson), "epil_pln", "pln")
