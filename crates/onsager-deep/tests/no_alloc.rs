//! Supervised training allocates nothing per mini-batch: under a counting global allocator
//! (this test binary only), an epoch of 50 mini-batches allocates exactly as often as an
//! epoch of 10 over the same rows (the buffers are made once per run, the snapshots once per
//! epoch).

use std::alloc::{GlobalAlloc, Layout, System};
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicUsize, Ordering};

use ndarray::Array2;
use onsager_deep::{fit, Activation, Init, Labelled, Mlp, Sgd};

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

#[test]
fn mini_batches_allocate_nothing() {
    let x = Array2::from_shape_fn((1000, 784), |(i, j)| ((i * 31 + j * 17) % 5) as f32 / 4.0);
    let y: Vec<usize> = (0..1000).map(|i| i % 10).collect();
    for threads in [1, 2] {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let count = |batch_size: usize| {
            pool.install(|| {
                let mut m = Mlp::<f32>::random(
                    &[784, 300, 100, 10],
                    Activation::ScaledTanh,
                    Init::Glorot,
                    0,
                )
                .unwrap();
                let sgd = Sgd {
                    epochs: 2,
                    batch_size,
                    learning_rate: 0.01,
                    clip: Some(10.0),
                    ..Sgd::default()
                };
                let before = ALLOCS.load(Ordering::SeqCst);
                fit(
                    &mut m,
                    Labelled { x: x.view(), y: &y },
                    None,
                    None,
                    &sgd,
                    &mut |_, _| ControlFlow::Continue(()),
                )
                .unwrap();
                ALLOCS.load(Ordering::SeqCst) - before
            })
        };
        count(100); // first use: the product kernels' one-time set-up
        let (few, many) = (count(100), count(20));
        assert_eq!(
            few, many,
            "{threads} threads: 10 batches {few}, 50 batches {many} allocations"
        );
    }
}
