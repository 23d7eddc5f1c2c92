fn main() {
    natter::mount();
}
