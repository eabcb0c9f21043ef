# One brms fit for the speed suite (Debian: r-cran-brms).
#   Rscript benchmarks/peers/brms_fit.R JOB.json OUT.json
# JOB: data (CSV), formula, family, seed, chains, draws, tune, target_accept, intercept_mu,
# correlated (whether a group term has more than one effect: an LKJ prior).
# OUT: sample_s = rstan's per-chain warm-up and sampling times summed over the chains and
# divided by the 2 cores (the chains' own time on the machine, without brms's set-up and
# post-processing), compile_s, min_ess, min_tail_ess, max_rhat, divergences, after_save_s
# (the time after the draws were on disk); for benchmarks/limit.py, leapfrog_warmup and
# leapfrog_sampling (Stan's n_leapfrog__ summed over the chains), chain_s (the per-chain
# times summed: core-seconds) and min_ess_all (the min bulk ESS over every parameter, group
# effects included). The draws are saved beside OUT (draws.rds).
suppressMessages({library(brms); library(posterior); library(jsonlite)})
rstan::rstan_options(boost_lib = "/usr/include", boost_lib2 = "/usr/include")
args <- commandArgs(trailingOnly = TRUE)
job <- fromJSON(args[1])
frame <- read.csv(job$data)
family <- switch(job$family, negbin = negbinomial(), zinb = zero_inflated_negbinomial(),
                 hurdle_nb = hurdle_negbinomial())
priors <- c(prior_string(sprintf("normal(%f, 2.5)", job$intercept_mu), class = "Intercept"),
            prior(normal(0, 1), class = "b"), prior(normal(0, 1), class = "shape"))
if (grepl("|", job$formula, fixed = TRUE)) priors <- c(priors, prior(gamma(2, 5), class = "sd"))
if (job$correlated) priors <- c(priors, prior(lkj(2), class = "cor"))
if (job$family == "zinb") priors <- c(priors, prior(beta(2, 2), class = "zi"))
if (job$family == "hurdle_nb") priors <- c(priors, prior(beta(2, 2), class = "hu"))
t0 <- Sys.time()
fit <- brm(bf(as.formula(job$formula)), data = frame, family = family, prior = priors,
           chains = job$chains, iter = job$draws + job$tune, warmup = job$tune, cores = 2,
           seed = job$seed, control = list(adapt_delta = job$target_accept), refresh = 0,
           silent = 2)
total <- as.numeric(difftime(Sys.time(), t0, units = "secs"))
saveRDS(fit, file.path(dirname(args[2]), "draws.rds"))
saved <- Sys.time()
elapsed <- rstan::get_elapsed_time(fit$fit)
sample_s <- sum(elapsed) / 2
d <- as_draws_array(fit)
keep <- grep("^(b_|sd_|cor_|shape$|zi$|hu$)", variables(d), value = TRUE)
s <- summarise_draws(subset_draws(d, variable = keep), "ess_bulk", "ess_tail", "rhat")
np <- nuts_params(fit)
steps <- rstan::get_sampler_params(fit$fit, inc_warmup = TRUE)
warm <- sum(sapply(steps, function(s) sum(s[seq_len(job$tune), "n_leapfrog__"])))
kept <- sum(sapply(steps, function(s) sum(s[-seq_len(job$tune), "n_leapfrog__"])))
every <- grep("^(b_|sd_|cor_|r_|z_|shape$|zi$|hu$)", variables(d), value = TRUE)
all_ess <- summarise_draws(subset_draws(d, variable = every), "ess_bulk")
out <- list(sample_s = sample_s, compile_s = total - max(rowSums(elapsed)),
            parameters = keep, min_ess = min(s$ess_bulk), min_tail_ess = min(s$ess_tail),
            max_rhat = max(s$rhat),
            divergences = sum(np$Value[np$Parameter == "divergent__"]),
            leapfrog_warmup = warm, leapfrog_sampling = kept, chain_s = sum(elapsed),
            min_ess_all = min(all_ess$ess_bulk, na.rm = TRUE), dim = length(every),
            after_save_s = as.numeric(difftime(Sys.time(), saved, units = "secs")))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA), args[2])
