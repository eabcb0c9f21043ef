# One corpus case fitted by brms at its defaults (Debian: r-cran-brms), for the pass rate
# beside bayescluster's (benchmarks/corpus.py).
#   LC_ALL=C Rscript benchmarks/peers/brms_corpus.R DATA_DIR CASE OUT.json
# brms's defaults: its default priors, 4 chains of 2,000 iterations (1,000 warm-up),
# adapt_delta 0.8. The gates are bayescluster's, over every parameter brms samples (lp__
# and lprior aside): max R-hat <= 1.01, min bulk and tail ESS >= 400, no divergent
# transition, E-BFMI >= 0.3 in every chain. OUT: the gate values, wall_s (the whole fit,
# compile included), compile_s and the parameter with the worst R-hat and ESS.
suppressMessages({library(brms); library(posterior); library(jsonlite)})
rstan::rstan_options(boost_lib = "/usr/include", boost_lib2 = "/usr/include")
args <- commandArgs(trailingOnly = TRUE)
cases <- fromJSON(file.path(args[1], "cases.json"), simplifyDataFrame = FALSE)
case <- Filter(function(x) x$name == args[2], cases)[[1]]
frame <- read.csv(file.path(args[1], paste0(case$table, ".csv")), check.names = FALSE)
family <- switch(case$family, poisson = poisson(), negbin = negbinomial(),
                 zinb = zero_inflated_negbinomial(), hurdle_nb = hurdle_negbinomial())
formula <- as.formula(case$r_formula)
model <- switch(case$family,
                zinb = bf(formula, as.formula(paste("zi", case$r_zero))),
                hurdle_nb = bf(formula, as.formula(paste("hu", case$r_zero))),
                bf(formula))
t0 <- Sys.time()
fit <- brm(model, data = frame, family = family, cores = 2, seed = 1, refresh = 0,
           silent = 2)
wall <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
elapsed <- rstan::get_elapsed_time(fit$fit)
d <- as_draws_array(fit)
d <- subset_draws(d, variable = setdiff(variables(d), c("lp__", "lprior")))
s <- summarise_draws(d, "rhat", "ess_bulk", "ess_tail")
s <- s[is.finite(s$rhat), ]
np <- nuts_params(fit)
bfmi <- rstan::get_bfmi(fit$fit)
out <- list(case = case$name, max_rhat = max(s$rhat), rhat_at = s$variable[which.max(s$rhat)],
            min_bulk_ess = min(s$ess_bulk), ess_at = s$variable[which.min(s$ess_bulk)],
            min_tail_ess = min(s$ess_tail),
            divergences = sum(np$Value[np$Parameter == "divergent__"]),
            min_bfmi = min(bfmi), wall_s = wall, compile_s = wall - max(rowSums(elapsed)))
out$passed <- out$max_rhat <= 1.01 && out$min_bulk_ess >= 400 && out$min_tail_ess >= 400 &&
  out$divergences == 0 && out$min_bfmi >= 0.3
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA), args[3])
