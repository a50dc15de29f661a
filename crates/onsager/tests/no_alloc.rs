//! The steady-state training loop allocates nothing: a counting global allocator (this test
//! binary only) sees no allocation between consecutive mini-batches after the first epoch.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use ndarray::Array2;
use onsager::{
    BatchProgress, EmfOrder, Method, Monitor, Persistence, Sigma, TrainParams, Trainer, Visible,
};

struct Counting;
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Records the allocation count at each mini-batch of epochs ≥ 2.
struct Recorder(Vec<usize>);

impl Monitor<f32> for Recorder {
    fn on_batch(&mut self, p: &BatchProgress) -> std::ops::ControlFlow<()> {
        if p.epoch >= 2 && p.batch >= 1 {
            self.0.push(ALLOCS.load(Ordering::SeqCst));
        }
        std::ops::ControlFlow::Continue(())
    }
}

#[test]
fn steady_state_mini_batches_allocate_nothing() {
    let data = Array2::from_shape_fn((1000, 784), |(i, j)| {
        ((i * 31 + j * 17) % 5 == 0) as u8 as f32
    });
    for threads in [1, 2] {
        for method in [
            Method::Cd { k: 1 },
            Method::Pcd { k: 1, chains: 100 },
            Method::emf(EmfOrder::First),
            Method::emf(EmfOrder::Third),
            Method::emf_reference(EmfOrder::Second, Persistence::DataInit),
            Method::emf_reference(EmfOrder::Second, Persistence::Persistent),
            Method::Emf {
                order: EmfOrder::Second,
                iterations: 6,
                damping: 0.5,
                persistence: Persistence::Persistent,
                tolerance: 1e-4,
                solver: onsager::Solver::Anderson { depth: 3 },
                reseed: onsager::Reseed {
                    merged: true,
                    fraction: 0.3,
                },
                weighting: onsager::Weighting::FreeEnergy,
            },
        ]
        .into_iter()
        .map(|m| (m, Visible::Bernoulli, Sigma::default()))
        // Real-valued units (docs/maths.md §1b): every method, σ fixed and learned.
        .chain([
            (
                Method::Cd { k: 1 },
                Visible::TRUNCATED_UNIT,
                Sigma::default(),
            ),
            (
                Method::Pcd { k: 1, chains: 100 },
                Visible::Gaussian,
                Sigma::Learned {
                    init: 0.5,
                    floor: 0.01,
                },
            ),
            // The real-valued TAP (docs/maths.md §4b), persistent and from the data.
            (
                Method::emf(EmfOrder::Second),
                Visible::Gaussian,
                Sigma::Learned {
                    init: 1.0,
                    floor: 0.01,
                },
            ),
            (
                Method::emf(EmfOrder::First).with_persistence(Persistence::DataInit),
                Visible::TRUNCATED_UNIT,
                Sigma::Fixed { value: 0.3 },
            ),
        ]) {
            let (method, visible, sigma) = method;
            let p = TrainParams::builder()
                .n_hidden(500)
                .method(method)
                .visible(visible)
                .sigma(sigma)
                .batch_size(100)
                .epochs(2)
                .threads(threads)
                .build()
                .unwrap();
            let mut t = Trainer::new(p, 784).unwrap();
            let mut rec = Recorder(Vec::with_capacity(64)); // the recorder itself must not allocate
            t.fit(data.view(), &mut rec).unwrap();
            let counts = rec.0;
            assert!(counts.len() >= 8);
            let grown = counts.last().unwrap() - counts.first().unwrap();
            assert_eq!(
                grown,
                0,
                "{method:?} ({visible}) with {threads} threads: {grown} allocations over {} batches",
                counts.len() - 1
            );
        }
    }
}
