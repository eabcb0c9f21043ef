# Maximum-likelihood references for the corpus (benchmarks/corpus_tables.py): each case's
# model fitted by glmmTMB (grouped tables) or MASS's glm.nb, glm, pscl's zeroinfl and
# hurdle (single-level tables), on the same CSV the package reads. Run from the top:
#   .venv/bin/python benchmarks/corpus_tables.py out/corpus
#   LC_ALL=C Rscript benchmarks/corpus_reference.R out/corpus
# (LC_ALL=C: factor levels sort by code point, as bayescluster sorts them.)
# Writes reports/corpus/reference/<case>.csv: part (count, zero, sd, dispersion), term,
# estimate, std_error, converged (glmmTMB: its optimiser converged with a positive-definite
# Hessian; the others: their iterations converged); the zero part is on logit P(zero) for
# every engine (pscl's hurdle models P(y > 0), so its signs are turned).
suppressMessages({library(glmmTMB); library(MASS); library(pscl); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
data_dir <- if (length(args)) args[1] else "out/corpus"
out_dir <- "reports/corpus/reference"
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
cases <- fromJSON(file.path(data_dir, "cases.json"), simplifyDataFrame = FALSE)

rows <- function(part, m) {
  if (is.null(m) || !length(m)) return(NULL)
  data.frame(part = part, term = rownames(m), estimate = m[, "Estimate"],
             std_error = m[, "Std. Error"])
}

for (case in cases) {
  frame <- read.csv(file.path(data_dir, paste0(case$table, ".csv")), check.names = FALSE)
  count <- as.formula(case$r_formula)
  warned <- FALSE
  fit <- withCallingHandlers(tryCatch({
    if (case$engine == "glmmTMB") {
      family <- switch(case$family, poisson = poisson(), negbin = nbinom2(),
                       zinb = nbinom2(), hurdle_nb = truncated_nbinom2())
      zi <- if (case$family %in% c("zinb", "hurdle_nb")) as.formula(case$r_zero) else ~0
      glmmTMB(count, frame, family = family, ziformula = zi)
    } else if (case$engine == "glm.nb") {
      glm.nb(count, frame)
    } else if (case$engine == "glm") {
      glm(count, frame, family = poisson())
    } else {
      both <- as.formula(paste(case$r_formula, "|", sub("^\\s*~", "", case$r_zero)))
      if (case$engine == "zeroinfl") zeroinfl(both, frame, dist = "negbin")
      else hurdle(both, frame, dist = "negbin", zero.dist = "binomial")
    }
  }, error = function(e) e),
  warning = function(w) { warned <<- TRUE; invokeRestart("muffleWarning") })
  if (inherits(fit, "error")) {
    cat(case$name, ": ", conditionMessage(fit), "\n"); next
  }
  if (case$engine == "glmmTMB") {
    s <- summary(fit)$coefficients
    table <- rbind(rows("count", s$cond), rows("zero", s$zi))
    sds <- unlist(lapply(VarCorr(fit)$cond, function(v) attr(v, "stddev")))
    table <- rbind(table, data.frame(part = "sd", term = names(sds), estimate = sds,
                                     std_error = NA))
    if (case$family != "poisson")
      table <- rbind(table, data.frame(part = "dispersion", term = "alpha",
                                       estimate = 1 / sigma(fit), std_error = NA))
  } else {
    s <- summary(fit)$coefficients
    if (is.list(s)) {
      zero <- s$zero
      if (case$engine == "hurdle") zero[, "Estimate"] <- -zero[, "Estimate"]
      count_rows <- s$count[rownames(s$count) != "Log(theta)", , drop = FALSE]
      table <- rbind(rows("count", count_rows), rows("zero", zero))
    } else {
      table <- rows("count", s)
    }
    if (!is.null(fit$theta))
      table <- rbind(table, data.frame(part = "dispersion", term = "alpha",
                                       estimate = 1 / fit$theta, std_error = NA))
  }
  table$converged <- if (case$engine == "glmmTMB") {
    fit$fit$convergence == 0 && isTRUE(fit$sdr$pdHess) && !warned
  } else if (!is.null(fit$converged)) isTRUE(fit$converged) && !warned else !warned
  write.csv(table, file.path(out_dir, paste0(case$name, ".csv")), row.names = FALSE)
  cat(case$name, if (table$converged[1]) "" else "(did not converge)", "\n")
}
